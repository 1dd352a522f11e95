/** The redactor masks a secret and the forms it takes on its way to an output. */
import { describe, expect, it } from 'vitest';
import { MASK, Redactor } from '../../../src/report/redact.js';

describe('Redactor', () => {
  it('masks the value, longest secret first', () => {
    const r = new Redactor(['s3cr3t-token', 's3cr3t']);
    expect(r.redact('a=s3cr3t-token b=s3cr3t')).toBe(`a=${MASK} b=${MASK}`);
  });

  it('masks each line of a multi-line secret, as a diff prints it', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n';
    const diff = pem.trimEnd().split('\n').map((l) => `+${l}`).join('\n');
    const out = new Redactor([pem]).redact(diff);
    expect(out).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
    expect(out).not.toContain('BKcwggSjAgEAAoIBAQC7');
    expect(out.split('\n')).toEqual([`+${MASK}`, `+${MASK}`, `+${MASK}`, `+${MASK}`]);
  });

  it("masks what the template filters make of it: b64encode, to_json, quote", () => {
    const secret = `pa"ss'word\\1`;
    const r = new Redactor([secret]);
    expect(r.redact(Buffer.from(secret).toString('base64'))).toBe(MASK);
    expect(r.redact(JSON.stringify({ k: secret }))).toBe(`{"k":"${MASK}"}`);
    expect(r.redact(`cmd 'pa"ss'\\''word\\1'`)).toBe(`cmd ${MASK}`);
  });

  it('masks the Ansible-style filter forms: shlex quote, Python JSON escapes, tojson HTML escapes', () => {
    const secret = `s'é<x>&`;
    const r = new Redactor([secret]);
    expect(r.redact(`cmd 's'"'"'é<x>&'`)).toBe(`cmd ${MASK}`);
    expect(r.redact(`{"k": "s'\\u00e9<x>&"}`)).toBe(`{"k": "${MASK}"}`);
    expect(r.redact('{"k": "s\\u0027\\u00e9\\u003cx\\u003e\\u0026"}')).toBe(`{"k": "${MASK}"}`);
  });

  it('leaves text without secrets alone, and ignores empty secrets', () => {
    expect(new Redactor(['', 'abcdef']).redact('nothing here')).toBe('nothing here');
  });
});
