import { acceptCorrelationId } from './correlation';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('correlation ids', () => {
  it("keeps a caller's well-formed id", () => {
    for (const id of ['abc-123', 'A.b_c:d-9', 'x', 'a'.repeat(64), '4f1c2b9e-6d0a-4d8e-9f1a-2b3c4d5e6f70']) {
      expect(acceptCorrelationId(id)).toBe(id);
    }
  });

  it('replaces a missing, empty, too long or oddly spelled one with a new UUID', () => {
    const bad = [undefined, '', 'a'.repeat(65), 'has space', 'new\nline', 'semi;colon', '<script>', "quote'", 'ünïcode', 'a/b', 'tab\t'];
    const made = bad.map(acceptCorrelationId);
    for (const id of made) expect(id).toMatch(UUID);
    expect(new Set(made).size).toBe(bad.length);
  });
});
