{
  "targets": [
    {
      "target_name": "graft_image",
      "sources": [
        "native/image/binding.cc",
        "native/image/decode.cc",
        "native/image/png.cc",
        "native/image/resample.cc"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O3",
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-rtti"
      ],
      "libraries": [
        "-ljpeg",
        "-lpng",
        "-ldeflate"
      ]
    },
    {
      "target_name": "graft_optim",
      "sources": [
        "native/optim/binding.cc",
        "native/optim/kernels.cc",
        "native/optim/softmax_regression.cc",
        "native/optim/lbfgs.cc"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O3",
        "-fno-exceptions",
        "-ffp-contract=off",
        "-fno-fast-math",
        "-Wno-maybe-uninitialized"
      ],
      "cflags_cc!": [
        "-fno-rtti"
      ],
      "ldflags": [
        "-pthread"
      ]
    },
    {
      "target_name": "graft_conv",
      "sources": [
        "native/conv/binding.cc",
        "native/conv/depthwise.cc"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O3",
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-rtti"
      ],
      "ldflags": [
        "-pthread"
      ]
    },
    {
      "target_name": "graft_heap",
      "sources": [
        "native/heap/binding.cc"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O2",
        "-fno-exceptions"
      ]
    }
  ]
}
