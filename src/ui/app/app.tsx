import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type VigilApiError, VigilClient } from '../../client/client.js';
import { Counts, type Viewer, ViewerQuery } from '../../client/sdk/dashboard.js';
import { query } from '../../client/sdk/transport.js';
import { ExecutionDetailView } from './detail.js';
import { FilterBar } from './filter-bar.js';
import { ExecutionList } from './list.js';
import { useLiveExecutions, useNow } from './live.js';
import { Overview } from './overview.js';
import { RetentionFooter } from './retention.js';
import { loadSettings, type Settings, saveSettings } from './settings.js';
import { useThrottledRead } from './throttle.js';
import { navigate, readFilter, toFilter, type UrlFilter, useLocation, writeFilter } from './url.js';
import { LiveDot } from './widgets.js';

type Access = { state: 'checking' } | { state: 'ok'; viewer: Viewer } | { state: 'need-key'; message: string | null };

/**
 * The dashboard: who the caller is (`viewer`), then the live list or one execution's detail.
 * With auth on, an UNAUTHORIZED answer anywhere brings up the key prompt.
 */
export function App() {
  const [settings, setSettings] = useState<Settings>(loadSettings);
  const client = useMemo(
    () =>
      new VigilClient({
        url: location.origin,
        key: settings.key ?? undefined,
        environment: settings.environment ?? undefined,
      }),
    [settings],
  );
  useEffect(() => () => client.close(), [client]);
  const [access, setAccess] = useState<Access>({ state: 'checking' });
  const [problem, setProblem] = useState<string | null>(null);

  const update = (s: Settings) => {
    saveSettings(s);
    setSettings(s);
  };

  useEffect(() => {
    setAccess({ state: 'checking' });
    setProblem(null);
    query(client, ViewerQuery, {}).then(
      (r) => setAccess({ state: 'ok', viewer: r.viewer }),
      (e: VigilApiError) => {
        if (e.code === 'UNAUTHORIZED')
          setAccess({ state: 'need-key', message: settings.key ? 'This key was not accepted.' : null });
        else setProblem(e.message);
      },
    );
  }, [client, settings.key]);

  const onAccessError = useCallback((e: VigilApiError) => {
    if (e.code === 'UNAUTHORIZED') setAccess({ state: 'need-key', message: e.message });
    else setProblem(e.message);
  }, []);

  return (
    <>
      <Header
        viewer={access.state === 'ok' ? access.viewer : null}
        settings={settings}
        refused={problem !== null}
        onEnvironment={(environment) => update({ ...settings, environment })}
        onForgetKey={() => update({ key: null, environment: settings.environment })}
      />
      <main>
        {problem && (
          <p class="notice error" role="alert">
            {problem}
          </p>
        )}
        {access.state === 'need-key' && (
          <KeyPrompt message={access.message} onKey={(key) => update({ ...settings, key })} />
        )}
        {access.state === 'checking' && !problem && <p class="loading">Connecting…</p>}
        {access.state === 'ok' && <Dashboard client={client} viewer={access.viewer} onAccessError={onAccessError} />}
      </main>
    </>
  );
}

function Dashboard({
  client,
  viewer,
  onAccessError,
}: {
  client: VigilClient;
  viewer: Viewer;
  onAccessError: (e: VigilApiError) => void;
}) {
  const { search, hash } = useLocation();
  const detailId = /^#\/executions\/([^/?#]+)/.exec(hash)?.[1];
  const listed = !detailId;
  // the filter as of the moment the URL changed ("last hour" is relative to then)
  const f = useMemo(() => readFilter(search), [search]);
  const filter = useMemo(() => toFilter(f, Date.now()), [f]);
  const countFilter = useMemo(() => toFilter(f, Date.now(), false), [f]);
  const live = useLiveExecutions(client, filter, onAccessError, listed);
  const counts = useThrottledRead(
    () => query(client, Counts, { filter: countFilter }).then((r) => r.executionCounts),
    JSON.stringify(countFilter),
    live.changes,
    listed,
  );
  const onChange = useCallback(
    (patch: Partial<UrlFilter>, replace = false) =>
      navigate(writeFilter({ ...readFilter(location.search), ...patch }), '#/', replace),
    [],
  );
  useListScroll(listed);
  const now = useNow();
  return (
    <>
      <div class="toolbar">
        <h1 class="title">{detailId ? 'Execution' : 'Executions'}</h1>
        {!detailId && <LiveDot state={live.connection} />}
      </div>
      {detailId && (
        <ExecutionDetailView
          key={detailId}
          client={client}
          id={decodeURIComponent(detailId)}
          viewer={viewer}
          live={live.byId.get(decodeURIComponent(detailId))}
          onAccessError={onAccessError}
          now={now}
        />
      )}
      {/* kept mounted under a detail, so coming back finds it exactly as it was left (rows, overview, height) */}
      <div hidden={!listed}>
        <FilterBar f={f} counts={counts.data} onChange={onChange} />
        <Overview client={client} f={f} filter={filter} changes={live.changes} active={listed} />
        {counts.error && <p class="notice error">{counts.error.message}</p>}
        <ExecutionList live={live} filtered={search.length > 1} now={now} />
      </div>
      <RetentionFooter client={client} />
    </>
  );
}

/**
 * Back from a detail returns to the list where the reader left it: the rows stay loaded (the list's state lives
 * above both views) and the scroll position is put back once they are drawn again.
 */
function useListScroll(listed: boolean) {
  const saved = useRef(0);
  useEffect(() => {
    history.scrollRestoration = 'manual';
  }, []);
  useEffect(() => {
    if (!listed) return;
    const on = () => {
      // the scroll a detail's shorter page causes arrives after the hash has changed: not the reader's
      if (!location.hash.startsWith('#/executions/')) saved.current = scrollY;
    };
    addEventListener('scroll', on, { passive: true });
    return () => removeEventListener('scroll', on);
  }, [listed]);
  useLayoutEffect(() => {
    scrollTo(0, listed ? saved.current : 0);
  }, [listed]);
}

function Header(props: {
  viewer: Viewer | null;
  settings: Settings;
  refused: boolean;
  onEnvironment(env: string): void;
  onForgetKey(): void;
}) {
  const { viewer, settings } = props;
  // no choice yet and the server refused (e.g. a key for both environments, which must name one): the user picks
  const env = settings.environment ?? viewer?.environment.toLowerCase() ?? (props.refused ? '' : 'test');
  return (
    <header class="top">
      <a class="brand" href="#/">
        Vigil
      </a>
      <label class="env">
        <span>Environment</span>
        <select value={env} onChange={(e) => props.onEnvironment(e.currentTarget.value)} data-testid="environment">
          {env === '' && (
            <option value="" disabled>
              choose…
            </option>
          )}
          <option value="test">test</option>
          <option value="live">live</option>
        </select>
      </label>
      <span class="who">
        {viewer && (viewer.authenticated ? `org ${viewer.organizationId}` : 'auth off')}
        {settings.key && (
          <button type="button" class="link" onClick={props.onForgetKey}>
            Forget key
          </button>
        )}
      </span>
      <a class="graphiql" href="/graphql">
        GraphiQL
      </a>
    </header>
  );
}

function KeyPrompt({ message, onKey }: { message: string | null; onKey(key: string): void }) {
  const [key, setKey] = useState('');
  return (
    <form
      class="key-prompt"
      onSubmit={(e) => {
        e.preventDefault();
        if (key.trim()) onKey(key.trim());
      }}
    >
      <h2>API key required</h2>
      <p>
        This Vigil runs with authentication on. Paste an API key (<code>npx vigil keys create</code> makes one); it is
        kept in this tab's session storage only.
      </p>
      {message && <p class="notice error">{message}</p>}
      <label class="field">
        API key
        <input
          type="password"
          autocomplete="off"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          data-testid="api-key"
          autofocus
        />
      </label>
      <button type="submit" class="primary">
        Use this key
      </button>
    </form>
  );
}
