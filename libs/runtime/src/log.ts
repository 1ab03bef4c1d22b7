/** Named values written at the top level of the JSON log line, beside the message. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;
export type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: LogFields) => void;
