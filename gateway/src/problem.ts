// A Problem is a refusal the gateway explains: a stable reason the console says in the user's language, the
// parameters its sentence needs, and the same in English words for logs, the CLI and developers.

/** Problem says why something was refused. */
export interface Problem {
  /** reason is a stable key (kebab-case): the console's resources hold a sentence for each. */
  reason: string;
  params?: Record<string, string | number>;
  /** text says it in English, for logs, the CLI and the API's message. */
  text: string;
}

/** problem builds a Problem. */
export function problem(reason: string, text: string, params?: Record<string, string | number>): Problem {
  return params ? { reason, text, params } : { reason, text };
}

/** ProblemError throws a Problem. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  readonly problem: Problem;

  constructor(p: Problem) {
    super(p.text);
    this.problem = p;
  }
}

/** isProblem tells a Problem from the value a check returns when it passes. */
export function isProblem(v: unknown): v is Problem {
  return typeof v === 'object' && v !== null && typeof (v as Problem).reason === 'string' && typeof (v as Problem).text === 'string';
}
