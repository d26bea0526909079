// elfpack's own version, as SBOMs name their tool (test/version.test.ts keeps it equal to package.json's).
export const ELFPACK_VERSION = '0.1.0';
