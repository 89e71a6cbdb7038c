/** README's configuration table, generated from the apps' schemas (one row per variable). */
import type { EnvSchema } from './load';
import type { SettingMeta } from './setting';

export interface DocumentedSchema {
  component: string;
  schema: EnvSchema;
  /** Variables a schema cannot declare by name, e.g. `APP_<label>_KEY`. */
  extra?: Record<string, SettingMeta>;
}

/**
 * The rows, in the order the components declare their variables; a variable several components read the same
 * way (same meaning and default) is one row naming them all.
 */
export function configTable(schemas: readonly DocumentedSchema[]): string {
  const rows = new Map<string, { name: string; components: string[]; meta: SettingMeta }>();
  for (const { component, schema, extra } of schemas) {
    const entries: [string, SettingMeta][] = [
      ...Object.entries(schema.shape).map(([name, s]): [string, SettingMeta] => [name, settingMeta(s.meta())]),
      ...Object.entries(extra ?? {}),
    ];
    for (const [name, meta] of entries) {
      const key = `${name}\0${meta.meaning}\0${meta.default ?? ''}`;
      const row = rows.get(key);
      if (row) row.components.push(component);
      else rows.set(key, { name, components: [component], meta });
    }
  }
  const lines = ['| Variable | Component | Default | Meaning |', '|---|---|---|---|'];
  for (const { name, components, meta } of rows.values()) {
    lines.push(`| \`${name}\` | ${components.join(', ')} | ${defaultCell(meta.default)} | ${meta.meaning} |`);
  }
  return lines.join('\n');
}

function settingMeta(meta: Record<string, unknown> | undefined): SettingMeta {
  return { meaning: typeof meta?.meaning === 'string' ? meta.meaning : '', default: typeof meta?.default === 'string' ? meta.default : undefined };
}

/** A value in code style; a default described in words (it has spaces or code of its own) as it is. */
function defaultCell(value: string | undefined): string {
  if (value === undefined) return 'required';
  return /[\s`]/.test(value) ? value : `\`${value}\``;
}
