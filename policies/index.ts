// Policy entry point.
export * from './actionTokenizer.ts';
export * from './textTokenizer.ts';
export * from './textEncoder.ts';
export * from './gpt.ts';
export * from './policy.ts';
export * from './registry.ts';
