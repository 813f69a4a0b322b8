// A mistake in what the operator typed or asked for: printed as it is, without a stack.
export class UsageError extends Error {}
