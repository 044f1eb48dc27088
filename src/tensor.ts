/** The one tensor type at graft's public boundary: a dtype, a shape and a flat typed array (row-major). */
export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool'
  | 'string'
  | 'bfloat16';

export interface DataTypeMap {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
  string: string[];
}

export type TensorData = DataTypeMap[DType];

export interface Tensor<T extends DType = DType> {
  readonly dtype: T;
  readonly shape: readonly number[];
  readonly data: DataTypeMap[T];
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function tensor<T extends DType>(dtype: T, shape: readonly number[], data: DataTypeMap[T]): Tensor<T> {
  return { dtype, shape: [...shape], data };
}

export function float32(shape: readonly number[], data?: ArrayLike<number>): Tensor<'float32'> {
  const out = new Float32Array(sizeOf(shape));
  if (data) out.set(data);
  return { dtype: 'float32', shape: [...shape], data: out };
}

export function int64(shape: readonly number[], data: ArrayLike<number | bigint>): Tensor<'int64'> {
  const out = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = BigInt(data[i]!);
  return { dtype: 'int64', shape: [...shape], data: out };
}

/** Allocates a zero-filled typed array of the right kind for a dtype. */
export function allocate<T extends DType>(dtype: T, length: number): DataTypeMap[T] {
  const make = (): TensorData => {
    switch (dtype) {
      case 'float32':
        return new Float32Array(length);
      case 'float64':
        return new Float64Array(length);
      case 'float16':
      case 'bfloat16':
      case 'uint16':
        return new Uint16Array(length);
      case 'int8':
        return new Int8Array(length);
      case 'int16':
        return new Int16Array(length);
      case 'int32':
        return new Int32Array(length);
      case 'int64':
        return new BigInt64Array(length);
      case 'uint8':
      case 'bool':
        return new Uint8Array(length);
      case 'uint32':
        return new Uint32Array(length);
      case 'uint64':
        return new BigUint64Array(length);
      case 'string':
        return new Array<string>(length).fill('');
    }
    throw new Error(`unknown dtype ${String(dtype)}`);
  };
  return make() as DataTypeMap[T];
}
