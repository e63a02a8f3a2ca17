/**
 * Runs one subscriber's handler. A handler that throws is a bug in its
 * caller, but it must not stop delivery to the other handlers, and over NATS
 * an exception escaping a subscription callback would unwind into the
 * client's protocol parser. So it is reported here, with the subject, and
 * swallowed.
 */
export function runHandler<T>(subject: string, handler: (value: T) => void, value: T): void {
  try {
    handler(value);
  } catch (error) {
    console.error(`broker: a handler for "${subject}" threw; other handlers still get their messages. Fix the handler:`, error);
  }
}
