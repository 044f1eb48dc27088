import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { parseSource } from '../../src/sources/parse.js';

function ambiguous(source: string, suggestion?: RegExp) {
  assert.throws(
    () => parseSource(source),
    (e) => {
      assert.ok(isGraftError(e, 'SOURCE_AMBIGUOUS'), `SOURCE_AMBIGUOUS for '${source}'`);
      for (const form of ['npm:<package>/<path>', 'file:<dir-or-file>', 'hub:<org>/<name>[@<revision>]']) {
        assert.ok(e.message.includes(form), `message lists ${form}`);
      }
      assert.match(e.message, /e\.g\. npm:\S+/);
      assert.match(e.message, /e\.g\. file:\S+/);
      assert.match(e.message, /e\.g\. hub:\S+/);
      if (suggestion) assert.match(e.message, suggestion);
      return true;
    },
  );
}

describe('parseSource', () => {
  test('hub: with and without revision', () => {
    assert.deepEqual(parseSource('hub:google/vit-base'), {
      kind: 'hub',
      raw: 'hub:google/vit-base',
      repo: 'google/vit-base',
      org: 'google',
      name: 'vit-base',
      revision: 'main',
    });
    const p = parseSource('hub:Xenova/all-MiniLM-L6-v2@refs/pr/1');
    assert.ok(p.kind === 'hub');
    assert.equal(p.repo, 'Xenova/all-MiniLM-L6-v2');
    assert.equal(p.revision, 'refs/pr/1');
    assert.equal(
      (parseSource('hub:a/b@0123456789abcdef0123456789abcdef01234567') as { revision: string }).revision
        .length,
      40,
    );
  });

  test('npm: plain and scoped packages', () => {
    assert.deepEqual(parseSource('npm:nsfwjs/dist/models/mobilenet_v2/model.json'), {
      kind: 'npm',
      raw: 'npm:nsfwjs/dist/models/mobilenet_v2/model.json',
      package: 'nsfwjs',
      path: 'dist/models/mobilenet_v2/model.json',
    });
    const s = parseSource('npm:@scope/models/weights/model.onnx');
    assert.ok(s.kind === 'npm');
    assert.equal(s.package, '@scope/models');
    assert.equal(s.path, 'weights/model.onnx');
  });

  test('file: relative, absolute and file:// URL', () => {
    assert.deepEqual(parseSource('file:./models/x'), {
      kind: 'file',
      raw: 'file:./models/x',
      path: './models/x',
    });
    assert.equal((parseSource('file:/abs/model.onnx') as { path: string }).path, '/abs/model.onnx');
    assert.equal((parseSource('file:///abs/my%20model') as { path: string }).path, '/abs/my model');
  });

  test('bare org/name is ambiguous: suggests hub: and file:', () => {
    ambiguous('google/vit-base', /did you mean hub:google\/vit-base or file:\.\/google\/vit-base\?/);
  });

  test('other ambiguous or malformed strings', () => {
    ambiguous('');
    ambiguous('   ');
    ambiguous('./models/x', /did you mean file:\.\/models\/x\?/);
    ambiguous('/abs/model.onnx', /file:\/abs\/model\.onnx/);
    ambiguous('model.onnx', /file:\.\/model\.onnx/);
    ambiguous('nsfwjs', /npm:nsfwjs\/<path>/);
    ambiguous('hf:google/vit-base', /hub:google\/vit-base/);
    ambiguous('https://huggingface.co/google/vit-base', /hub:google\/vit-base/);
    ambiguous('hub:google');
    ambiguous('hub:google/vit/extra');
    ambiguous('hub:../etc/passwd');
    ambiguous('hub:google/vit@');
    ambiguous('hub:google/vit@../../x');
    ambiguous('npm:');
    ambiguous('npm:Bad Name/x');
    ambiguous('file:');
    ambiguous('s3://bucket/model');
  });
});
