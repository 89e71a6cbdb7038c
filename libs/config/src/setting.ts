/**
 * One environment variable as a zod schema: how its text is parsed, its default, and what it means. The
 * meaning and default travel with the schema (zod metadata), so README's configuration table is generated
 * from the same declarations the apps parse (test/config-table.spec.ts fails when they drift apart).
 */
import { z } from 'zod';
import { formatBytes, parseByteSize, parseDuration } from '@beamline/domain';

export interface SettingMeta {
  /** What the variable does, one sentence for the README table. */
  meaning: string;
  /** The default as README shows it; none for a required variable. */
  default?: string;
}

type Raw = string | undefined;

/** A component's variables: one setting per name. */
export type EnvSchema = z.ZodObject<Record<string, z.ZodType<unknown, string | undefined>>>;

/** What an unset (or empty) variable means: a default value, a refusal, or "not set" (undefined). */
type WhenUnset<T> = { value: T } | 'required' | 'unset';

function whenUnset<T>(fallback: T | undefined): WhenUnset<T> {
  return fallback === undefined ? 'required' : { value: fallback };
}

/** A variable parsed from its text by `parse`, which throws with the reason. */
function parsed<T>(parse: (raw: string) => T, unset: WhenUnset<T>, meta: SettingMeta): z.ZodType<T, Raw> {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      if (raw === undefined || raw === '') {
        if (unset === 'unset') return undefined as T;
        if (unset !== 'required') return unset.value;
        ctx.issues.push({ code: 'custom', message: 'required', input: raw });
        return z.NEVER;
      }
      try {
        return parse(raw);
      } catch (err) {
        ctx.issues.push({ code: 'custom', message: withoutName((err as Error).message), input: raw });
        return z.NEVER;
      }
    });
  return schema.meta({ ...meta }) as unknown as z.ZodType<T, Raw>;
}

/** Parsers name their field ("ttl: …"); the variable's name is added by the loader. */
function withoutName(message: string): string {
  return message.replace(/^[A-Z0-9_]+: /, '').replace(/^\w+: /, '');
}

function formatMs(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export const setting = {
  /** A duration such as `30s`, `5m`, `7d`, at least `minMs`. */
  duration(fallbackMs: number | undefined, meaning: string, opts: { minMs?: number; default?: string } = {}): z.ZodType<number, Raw> {
    return parsed(
      (raw) => {
        const ms = parseDuration(raw, 'value');
        if (opts.minMs !== undefined && ms < opts.minMs) throw new Error(`at least ${formatMs(opts.minMs)}, got ${JSON.stringify(raw)}`);
        return ms;
      },
      whenUnset(fallbackMs),
      { meaning, default: opts.default ?? (fallbackMs === undefined ? undefined : formatMs(fallbackMs)) },
    );
  },

  /** A byte size such as `256MiB`, at least `minBytes`. */
  byteSize(fallback: number | undefined, meaning: string, opts: { minBytes?: number; maxBytes?: number; default?: string } = {}): z.ZodType<number, Raw> {
    return parsed(
      (raw) => {
        const bytes = parseByteSize(raw, 'value');
        if (opts.minBytes !== undefined && bytes < opts.minBytes) throw new Error(`at least ${formatBytes(opts.minBytes)}, got ${JSON.stringify(raw)}`);
        if (opts.maxBytes !== undefined && bytes > opts.maxBytes) throw new Error(`at most ${formatBytes(opts.maxBytes)}, got ${JSON.stringify(raw)}`);
        return bytes;
      },
      whenUnset(fallback),
      { meaning, default: opts.default ?? (fallback === undefined ? undefined : formatBytes(fallback).replace(' ', '')) },
    );
  },

  /** An integer from `min` (default 1) to `max`. */
  int(fallback: number | undefined, meaning: string, opts: { min?: number; max?: number } = {}): z.ZodType<number, Raw> {
    const min = opts.min ?? 1;
    return parsed(
      (raw) => {
        const n = Number(raw);
        if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || (opts.max !== undefined && n > opts.max)) {
          throw new Error(
            `expected ${opts.max === undefined ? `an integer of at least ${min}` : `an integer from ${min} to ${opts.max}`}, got ${JSON.stringify(raw)}`,
          );
        }
        return n;
      },
      whenUnset(fallback),
      { meaning, default: fallback === undefined ? undefined : String(fallback) },
    );
  },

  /** One of `choices`. */
  oneOf<C extends string>(choices: readonly C[], fallback: C | undefined, meaning: string): z.ZodType<C, Raw> {
    return parsed(
      (raw) => {
        if (!(choices as readonly string[]).includes(raw))
          throw new Error(`expected ${choices.map((c) => JSON.stringify(c)).join(' or ')}, got ${JSON.stringify(raw)}`);
        return raw as C;
      },
      whenUnset(fallback),
      { meaning, default: fallback },
    );
  },

  /** Text checked by `check` (which throws the reason), e.g. a URL or a file that must exist. */
  text<T = string>(
    fallback: T | undefined,
    meaning: string,
    check: (raw: string) => T = (raw) => raw as unknown as T,
    defaultText?: string,
  ): z.ZodType<T, Raw> {
    return parsed(check, whenUnset(fallback), { meaning, default: defaultText ?? (typeof fallback === 'string' ? fallback : undefined) });
  },

  /** Text that may stay unset (undefined). */
  optionalText<T = string>(meaning: string, check: (raw: string) => T = (raw) => raw as unknown as T, defaultText = 'unset'): z.ZodType<T | undefined, Raw> {
    return parsed<T | undefined>(check, 'unset', { meaning, default: defaultText });
  },
};
