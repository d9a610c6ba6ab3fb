/**
 * Renders an OpenAPI 3.1 document as one self-contained HTML page (no script, no CDN, so `/docs` works offline and
 * in any browser or text browser). Schemas are shown as TypeScript-like types with their constraints.
 */

type Json = Record<string, unknown>;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const anchor = (s: string) => s.replace(/[^\w-]+/g, '-');

/** Inline markdown: `code`. */
const inline = (s: string) => esc(s).replace(/`([^`]+)`/g, '<code>$1</code>');

/** The markdown the descriptions use: paragraphs, `code` and pipe tables. */
function markdown(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const lines = block.trim().split('\n');
      if (lines[0]?.startsWith('|')) {
        const cells = (l: string) =>
          l
            .trim()
            .replace(/^\||\|$/g, '')
            .split(/(?<!\\)\|/)
            .map((c) => inline(c.trim().replaceAll('\\|', '|')));
        const [head = '', , ...body] = lines;
        const th = cells(head)
          .map((c) => `<th>${c}</th>`)
          .join('');
        const rows = body
          .map(
            (l) =>
              `<tr>${cells(l)
                .map((c) => `<td>${c}</td>`)
                .join('')}</tr>`,
          )
          .join('');
        return `<table><tr>${th}</tr>${rows}</table>`;
      }
      return `<p>${inline(lines.join(' '))}</p>`;
    })
    .join('\n');
}

function constraints(s: Json): string {
  const parts: string[] = [];
  if (s.format) parts.push(str(s.format));
  if (s.minimum !== undefined || s.maximum !== undefined) parts.push(`${s.minimum ?? ''}..${s.maximum ?? ''}`);
  if (s.minLength !== undefined || s.maxLength !== undefined)
    parts.push(`length ${s.minLength ?? 0}..${s.maxLength ?? ''}`);
  if (s.maxItems !== undefined) parts.push(`at most ${s.maxItems} items`);
  if (s.pattern) parts.push(`pattern ${str(s.pattern)}`);
  if (s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  return parts.length ? ` <span class="c">(${esc(parts.join(', '))})</span>` : '';
}

/** A schema as an HTML-escaped type expression; `$ref`s link to the schema section. */
function typeOf(schema: unknown, indent = ''): string {
  const s = obj(schema);
  if (typeof s.$ref === 'string') {
    const name = s.$ref.split('/').pop() ?? '';
    return `<a href="#schema-${anchor(name)}">${esc(name)}</a>`;
  }
  const alternatives = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(alternatives)) return alternatives.map((a) => typeOf(a, indent)).join(` |\n${indent}`);
  // JSON text (an SSE event's data): the schema of what it parses to
  if (s.contentSchema) return `JSON ${typeOf(s.contentSchema, indent)}`;
  if (Array.isArray(s.enum)) return esc(s.enum.map((v) => JSON.stringify(v)).join(' | '));
  const types = Array.isArray(s.type) ? (s.type as string[]) : s.type ? [str(s.type)] : [];
  const shown = types.map((t) => {
    if (t === 'array') return `${typeOf(s.items, indent)}[]`;
    if (t === 'object' && (s.properties || s.additionalProperties)) return objectOf(s, indent);
    return esc(t === 'integer' ? 'integer' : t);
  });
  return (shown.length ? shown.join(' | ') : 'any') + constraints(s);
}

function objectOf(s: Json, indent: string): string {
  const inner = `${indent}  `;
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const lines = Object.entries(obj(s.properties)).map(([name, p]) => {
    const d = str(obj(p).description);
    const note = d ? `  <span class="d">// ${esc(d)}</span>` : '';
    return `${inner}${esc(name)}${required.has(name) ? '' : '?'}: ${typeOf(p, inner)}${note}`;
  });
  const extra = s.additionalProperties;
  if (extra && extra !== false) lines.push(`${inner}[key: string]: ${extra === true ? 'any' : typeOf(extra, inner)}`);
  return `{\n${lines.join('\n')}\n${indent}}`;
}

/** A `$ref` to one of the document's components, resolved; anything else as it is. */
function resolved(doc: Json, value: unknown): Json {
  const ref = obj(value).$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return obj(value);
  return obj(
    ref
      .slice(2)
      .split('/')
      .reduce<unknown>((node, key) => obj(node)[key], doc),
  );
}

function operation(doc: Json, path: string, method: string, op: Json): string {
  const params = (Array.isArray(op.parameters) ? op.parameters : []).map((p) => resolved(doc, p));
  const paramRows = params
    .map(
      (p) =>
        `<tr><td><code>${esc(str(p.name))}</code></td><td>${esc(str(p.in))}</td><td>${p.required ? 'yes' : ''}</td>` +
        `<td><code>${typeOf(p.schema)}</code></td><td>${inline(str(p.description) || str(obj(p.schema).description))}</td></tr>`,
    )
    .join('');
  const body = obj(op.requestBody);
  const bodyContent = Object.entries(obj(body.content));
  const responses = Object.entries(obj(op.responses))
    .map(([status, r]) => {
      const content = Object.entries(obj(obj(r).content));
      const schemas = content.map(([type, c]) => {
        const schema = obj(obj(c).schema);
        // A named schema fits on the line; an inline one gets a block.
        return schema.$ref ? ` → <code>${typeOf(schema)}</code>` : `<pre>${esc(type)}: ${typeOf(schema)}</pre>`;
      });
      return `<tr><td><b>${esc(status)}</b></td><td>${inline(str(obj(r).description).split('\n')[0] ?? '')}${schemas.join('')}</td></tr>`;
    })
    .join('');
  return `<section id="${anchor(`${method}-${path}`)}">
<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p><b>${inline(str(op.summary))}</b>${op.operationId ? `<br><span class="c">operationId <code>${esc(str(op.operationId))}</code></span>` : ''}</p>${markdown(str(op.description))}
${paramRows ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>type</th><th></th></tr>${paramRows}</table>` : ''}
${bodyContent.length ? `<h4>Body${body.required ? '' : ' (optional)'}</h4>${bodyContent.map(([t, c]) => `<pre>${esc(t)}: ${typeOf(obj(c).schema)}</pre>`).join('')}` : ''}
<h4>Responses</h4><table>${responses}</table>
</section>`;
}

export function renderReference(document: object): string {
  const doc = document as Json;
  const info = obj(doc.info);
  const ops: { tag: string; html: string; link: string }[] = [];
  for (const [path, item] of Object.entries(obj(doc.paths))) {
    for (const method of METHODS) {
      const op = obj(obj(item)[method]);
      if (!Object.keys(op).length) continue;
      const tag = str((op.tags as string[] | undefined)?.[0]) || 'Other';
      ops.push({
        tag,
        html: operation(doc, path, method, op),
        link: `<li><a href="#${anchor(`${method}-${path}`)}" title="${esc(`${method.toUpperCase()} ${path}`)}"><span class="m ${method}">${method.toUpperCase()}</span> ${esc(str(op.summary) || path)}</a></li>`,
      });
    }
  }
  const tags = [
    ...new Set([...(Array.isArray(doc.tags) ? doc.tags.map((t) => str(obj(t).name)) : []), ...ops.map((o) => o.tag)]),
  ];
  const byTag = tags.filter((t) => ops.some((o) => o.tag === t));
  const nav = byTag
    .map(
      (t) =>
        `<li>${esc(t)}<ul>${ops
          .filter((o) => o.tag === t)
          .map((o) => o.link)
          .join('')}</ul></li>`,
    )
    .join('');
  const sections = byTag
    .map(
      (t) =>
        `<h2>${esc(t)}</h2>${ops
          .filter((o) => o.tag === t)
          .map((o) => o.html)
          .join('\n')}`,
    )
    .join('\n');
  const schemas = Object.entries(obj(obj(doc.components).schemas))
    .map(([name, s]) => {
      const d = str(obj(s).description);
      return `<section id="schema-${anchor(name)}"><h3>${esc(name)}</h3>${d ? markdown(d) : ''}<pre>${typeOf(s)}</pre></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(str(info.title))}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;display:flex;color:#1d2330}
nav{width:300px;flex:none;height:100vh;position:sticky;top:0;overflow:auto;background:#f4f6f9;padding:16px;box-sizing:border-box;font-size:13px}
nav ul{list-style:none;padding-left:8px}nav li{margin:3px 0}nav a{text-decoration:none;color:inherit}
main{padding:24px 40px;max-width:1000px;min-width:0}
pre{background:#f4f6f9;padding:10px;overflow:auto;font-size:13px}
code{font-size:13px}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d5dae3;padding:4px 8px;vertical-align:top;text-align:left}td:first-child code{white-space:nowrap}
section{border-top:1px solid #d5dae3;padding-top:8px;margin-top:24px}
.m{display:inline-block;min-width:48px;font:bold 12px monospace;color:#fff;border-radius:3px;padding:2px 4px;text-align:center}
.get{background:#2f7d32}.post{background:#1565c0}.patch{background:#b26a00}.put{background:#6a1b9a}.delete{background:#c62828}
.c{color:#6b7280}.d{color:#2e7d32}
</style></head><body>
<nav><b>${esc(str(info.title))}</b><ul>${nav}<li><a href="#schemas">Schemas</a></li></ul><a href="/openapi.json">openapi.json</a></nav>
<main><h1>${esc(str(info.title))} <small>${esc(str(info.version))}</small></h1>
${markdown(str(info.description))}
<p>The machine-readable document: <a href="/openapi.json"><code>/openapi.json</code></a> (OpenAPI ${esc(str(doc.openapi))}).</p>
${sections}
<h2 id="schemas">Schemas</h2>
${schemas}
</main></body></html>`;
}
