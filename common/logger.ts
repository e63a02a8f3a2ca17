import { pino, type Logger } from "pino";

export type { Logger };

/** JSON logs on stdout (pino); `component` names the process part in every line. */
export function createLogger(component: string, level: string = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ level, base: { component } });
}
