import { BrokerError, InvalidSubjectError } from "./broker";

/**
 * NATS subject rules, checked on our side of the wire so that the memory
 * broker refuses exactly what NATS would choke on, and so that an error names
 * the subject instead of surfacing later as a server-side `-ERR`.
 * https://docs.nats.io/nats-concepts/subjects
 */

function tokensOf(subject: string): string[] {
  if (subject.length === 0) throw new InvalidSubjectError(subject, "it is empty");
  if (/\s/.test(subject)) throw new InvalidSubjectError(subject, "it contains whitespace");
  const tokens = subject.split(".");
  if (tokens.some((token) => token.length === 0)) throw new InvalidSubjectError(subject, 'it has an empty token (".." or a leading/trailing ".")');
  return tokens;
}

/** A subject to publish to: no wildcards. */
export function checkSubject(subject: string): void {
  if (tokensOf(subject).some((token) => token === "*" || token === ">")) {
    throw new InvalidSubjectError(subject, 'wildcards ("*", ">") are for subscriptions, publish to a concrete subject');
  }
}

/** A subject to subscribe to: "*" anywhere, ">" only as the last token. */
export function checkPattern(pattern: string): void {
  const tokens = tokensOf(pattern);
  if (tokens.slice(0, -1).includes(">")) throw new InvalidSubjectError(pattern, '">" may only be the last token');
}

export function subjectMatches(pattern: string, subject: string): boolean {
  const wanted = pattern.split(".");
  const actual = subject.split(".");
  for (let i = 0; i < wanted.length; i++) {
    const token = wanted[i];
    if (token === ">") return actual.length > i;
    if (i >= actual.length) return false;
    if (token !== "*" && token !== actual[i]) return false;
  }
  return wanted.length === actual.length;
}

/** Whether some subject matches both patterns (JetStream refuses streams whose subjects overlap). */
export function patternsOverlap(a: string, b: string): boolean {
  const left = a.split(".");
  const right = b.split(".");
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const l = left[i];
    const r = right[i];
    if (l === ">" || r === ">") return l !== undefined && r !== undefined;
    if (l === undefined || r === undefined) return false;
    if (l !== "*" && r !== "*" && l !== r) return false;
  }
  return true;
}

/**
 * A durable log's name becomes a JetStream stream name, which may not hold
 * subject separators, wildcards, whitespace or path separators (it names a
 * folder on the server).
 */
export function checkLogName(name: string): void {
  if (name.length === 0 || /[\s.*>/\\]/.test(name)) {
    throw new BrokerError(`durable log "${name}": invalid name, use letters, digits, "-" and "_" (it becomes a JetStream stream name)`);
  }
}
