import { useEffect, useState } from 'preact/hooks';
import type { VigilClient } from '../../client/client.js';
import { Retention, type RetentionResult } from '../../client/sdk/dashboard.js';
import { query } from '../../client/sdk/transport.js';
import { Time } from './widgets.js';

/** Read again this often: the oldest execution moves as retention deletes. */
const REFRESH_MS = 5 * 60_000;

/** The footer line (API.md §10): how long finished executions are kept, and the oldest one this tenant still has. */
export function RetentionFooter({ client }: { client: VigilClient }) {
  const [r, setR] = useState<RetentionResult | null>(null);
  useEffect(() => {
    let gone = false;
    const read = () =>
      query(client, Retention, {}).then(
        (res) => !gone && setR(res.retention),
        () => {}, // the footer is informative; the views report access and connection errors
      );
    void read();
    const timer = setInterval(read, REFRESH_MS);
    return () => {
      gone = true;
      clearInterval(timer);
    };
  }, [client]);
  if (!r) return null;
  return (
    <footer class="retention" data-testid="retention">
      <span>
        Retention:{' '}
        {r.days > 0 ? `finished executions are kept ${days(r.days)}, pinned ones for good` : 'everything is kept'}
      </span>
      <span>
        Oldest execution kept: <Time iso={r.oldestExecutionAt} />
      </span>
    </footer>
  );
}

function days(n: number): string {
  if (n >= 1) return `${Number(n.toFixed(2))} day${n === 1 ? '' : 's'}`;
  return `${Number((n * 24).toFixed(2))} hours`;
}
