// Server labels and TiProxy's balance.label-name from component configs. Pure.
//
// tidb-operator v2 keeps configs as TOML strings (`template.spec.config`); v1 also allows an
// object. Only the forms TiDB and TiProxy document are read: a `[labels]` table of string
// values (`zone = "a"`, or an inline `labels = { zone = "a" }`), and `label-name` in
// `[balance]` (or `balance.label-name` at the top level). Anything else that mentions them is
// reported as unreadable, never guessed: the tenant a TiProxy serves is derived from them.
import { Labels } from '../types';

export interface ConfigLabels {
  labels: Labels;
  labelName?: string;
  /** Lines that mention labels or label-name in a form this reader does not understand. */
  unreadable: string[];
}

const STR = String.raw`"((?:[^"\\]|\\.)*)"|'([^']*)'`;
const KEY = String.raw`("(?:[^"\\]|\\.)*"|[A-Za-z0-9_.\-/]+)`;

function unquote(k: string): string {
  return k.startsWith('"') ? JSON.parse(k) : k;
}

function strValue(m: RegExpExecArray, at: number): string {
  return m[at] !== undefined ? JSON.parse(`"${m[at]}"`) : m[at + 1];
}

/** Parses `a = "x", "b.c" = 'y'` (the inside of an inline table); undefined if not only strings. */
function inlineTable(body: string): Labels | undefined {
  const out: Labels = {};
  const re = new RegExp(String.raw`\s*${KEY}\s*=\s*(?:${STR})\s*(,|$)`, 'y');
  let pos = 0;
  const text = body.trim();
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    out[unquote(m[1])] = strValue(m, 2);
    pos = re.lastIndex;
  }
  return out;
}

function fromToml(text: string): ConfigLabels {
  const out: ConfigLabels = { labels: {}, unreadable: [] };
  let section = '';
  const assign = new RegExp(String.raw`^${KEY}\s*=\s*(.*)$`);
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (!line || line.startsWith('#')) continue;
    const sec = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (sec) { section = sec[1]; continue; }
    const m = assign.exec(line);
    const key = m ? unquote(m[1]) : '';
    const full = section ? `${section}.${key}` : key;
    const value = m ? m[2].trim() : '';
    const str = new RegExp(String.raw`^(?:${STR})$`).exec(value);
    if (m && section === 'labels') {
      if (str) out.labels[key] = strValue(str, 1); else out.unreadable.push(raw.trim());
    } else if (m && full === 'labels') {
      const t = /^\{(.*)\}$/.exec(value);
      const parsed = t ? inlineTable(t[1]) : undefined;
      if (parsed) Object.assign(out.labels, parsed); else out.unreadable.push(raw.trim());
    } else if (m && full === 'balance.label-name') {
      if (str) out.labelName = strValue(str, 1); else out.unreadable.push(raw.trim());
    } else if (/label/.test(section + line) && /^(labels|balance)\b/.test(section || key)) {
      out.unreadable.push(raw.trim());
    }
  }
  return out;
}

function fromObject(cfg: Record<string, unknown>): ConfigLabels {
  const out: ConfigLabels = { labels: {}, unreadable: [] };
  const labels = cfg.labels;
  if (labels && typeof labels === 'object') {
    for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
      if (typeof v === 'string') out.labels[k] = v; else out.unreadable.push(`labels.${k}`);
    }
  }
  const balance = cfg.balance as Record<string, unknown> | undefined;
  const name = balance?.['label-name'] ?? cfg['balance.label-name'];
  if (typeof name === 'string') out.labelName = name; else if (name !== undefined) out.unreadable.push('balance.label-name');
  return out;
}

/** Reads `[labels]` and `balance.label-name` from a component config (TOML string or object). */
export function configLabels(config: unknown): ConfigLabels {
  if (typeof config === 'string') return fromToml(config);
  if (config && typeof config === 'object') return fromObject(config as Record<string, unknown>);
  return { labels: {}, unreadable: [] };
}

/**
 * A server's effective labels: the config's `[labels]` overridden by the operator's
 * `template.spec.server.labels` (v2: "this field takes precedence").
 */
export function serverLabels(config: unknown, serverLabelsField: unknown): { labels: Labels; labelName?: string; unreadable: string[] } {
  const c = configLabels(config);
  const extra: Labels = {};
  if (serverLabelsField && typeof serverLabelsField === 'object') {
    for (const [k, v] of Object.entries(serverLabelsField as Record<string, unknown>)) if (typeof v === 'string') extra[k] = v;
  }
  return { labels: { ...c.labels, ...extra }, labelName: c.labelName, unreadable: c.unreadable };
}
