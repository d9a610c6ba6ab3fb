import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The committed build of the dashboard (`npm run ui:build`); read on the first request for it, nothing is written. */
const DIST = fileURLToPath(new URL('./dist', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * Same-origin only: every script, style and request goes to this server, so the page works offline and an
 * injected script could not call out.
 */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

function readAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const file of files(dir)) {
    const rel = `/${relative(dir, file).split('\\').join('/')}`;
    const ext = rel.slice(rel.lastIndexOf('.'));
    const body = readFileSync(file);
    assets.set(rel, {
      body,
      type: TYPES[ext] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      immutable: rel.startsWith('/assets/'),
    });
  }
  return assets;
}

/**
 * Serves the dashboard at `/` (and `/index.html`) and its hashed assets under `/assets/`, which are cached forever
 * since a new build changes their names. Returns a handler that answers and returns true for its own paths.
 */
export function createDashboard(dir = DIST): (req: IncomingMessage, res: ServerResponse, path: string) => boolean {
  let assets: Map<string, Asset> | null = null;
  return (req, res, path) => {
    if (path !== '/' && path !== '/index.html' && !path.startsWith('/assets/')) return false;
    assets ??= readAssets(dir);
    const asset = assets.get(path === '/' ? '/index.html' : path);
    if (!asset) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    const headers: Record<string, string | number> = {
      'content-type': asset.type,
      'content-length': asset.body.length,
      etag: asset.etag,
      'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
    if (asset.type.startsWith('text/html')) headers['content-security-policy'] = CSP;
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, { etag: asset.etag, 'cache-control': headers['cache-control'] as string }).end();
      return true;
    }
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  };
}
