import type { GraphiQLOptions } from 'graphql-yoga';

/** What GraphiQL opens on instead of its stock welcome text: Vigil's own operations, in the order one uses them. */
export const EXAMPLE_OPERATIONS = `# Vigil's operations, in the order you use them.
# Run one: pick it from the run button's menu, or put
# the cursor in it and press Ctrl-Enter.
#
# 1. CreateExecution. Copy the id it returns into the
#    variables below ("id").
# 2. WatchEvents follows its events live: run it in a
#    second tab (+) to watch while you record.
# 3. RecordEvents reports as a worker would: RUNNING,
#    progress, then COMPLETED.
# 4. WaitForExecution answers once it has ended
#    (completed: false if the timeout passes first).
#
# Docs (top left) lists every query and mutation. With
# auth on, your key goes with every request.

mutation CreateExecution($workflowId: String!) {
  createExecution(input: { workflowId: $workflowId }) {
    id
    status
    workflowId
    createdAt
  }
}

subscription WatchEvents($id: ID!) {
  executionEvents(executionId: $id) {
    sequence
    type
    occurredAt
    ... on StatusChangedEvent {
      from
      to
    }
    ... on ProgressEvent {
      step
      percentage
    }
  }
}

mutation RecordEvents($id: ID!) {
  recordExecutionEvents(
    executionId: $id
    events: [
      { statusChanged: { to: RUNNING } }
      { progress: { step: "load", percentage: 50 } }
      { statusChanged: { to: COMPLETED } }
    ]
  ) {
    execution {
      status
      lastSequence
    }
    events {
      sequence
      type
    }
  }
}

query WaitForExecution($id: ID!) {
  waitForExecution(id: $id, timeout: 60) {
    completed
    durationMs
    execution {
      status
      completedAt
    }
  }
}
`;

const EXAMPLE_VARIABLES = JSON.stringify(
  { workflowId: 'graphiql-example', id: 'paste the id that CreateExecution returned' },
  null,
  2,
);

/**
 * `variables` is yoga's page's name for GraphiQL's `initialVariables`, absent from yoga's type: without it GraphiQL
 * shows an empty variables editor for the default tab although the tab holds them.
 */
export const GRAPHIQL_OPTIONS: GraphiQLOptions & { variables: string } = {
  title: 'Vigil GraphiQL',
  subscriptionsProtocol: 'SSE',
  defaultTabs: [{ query: EXAMPLE_OPERATIONS, variables: EXAMPLE_VARIABLES }],
  variables: EXAMPLE_VARIABLES,
};

/**
 * Runs in the page before GraphiQL: finds the API key (the dashboard's, which it keeps in this tab's
 * sessionStorage, or one asked for when the server refuses the request without it) and has GraphiQL send it, with
 * the dashboard's environment, on every request (introspection, queries, SSE subscriptions) as `additionalHeaders`.
 */
const BOOTSTRAP = `<script>
window.vigilGraphiQL = async function (render, root, options) {
  var read = function (name) { try { return sessionStorage.getItem(name); } catch (e) { return null; } };
  var key = read('vigil.apiKey');
  var environment = read('vigil.environment');
  var accepted = async function (k) {
    var headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (k) headers.authorization = 'Bearer ' + k;
    var res = await fetch(options.endpoint || '/graphql', { method: 'POST', headers: headers, body: '{"query":"{ __typename }"}' });
    return res.status !== 401;
  };
  var ask = function (message) {
    return new Promise(function (resolve) {
      root.innerHTML = '<form data-testid="vigil-key" style="font:15px system-ui,sans-serif;max-width:420px;margin:15vh auto;display:grid;gap:10px">' +
        '<b>Vigil GraphiQL</b><span></span>' +
        '<input name="key" type="password" aria-label="API key" autocomplete="off" placeholder="vigil_…" style="font:inherit;padding:6px" required>' +
        '<button style="font:inherit;padding:6px">Use this key</button>' +
        '<small>Create one with <code>npx vigil keys create</code>. It is kept for this tab only, as the dashboard keeps it.</small></form>';
      root.querySelector('span').textContent = message;
      var form = root.querySelector('form');
      form.key.focus();
      form.onsubmit = function (e) { e.preventDefault(); resolve(form.key.value.trim()); };
    });
  };
  if (!(await accepted(key))) {
    var message = key ? 'The saved key was refused. Enter an API key:' : 'This server needs an API key:';
    for (;;) {
      key = await ask(message);
      if (await accepted(key)) break;
      message = 'That key was refused. Enter an API key:';
    }
    try { sessionStorage.setItem('vigil.apiKey', key); } catch (e) {}
  }
  var headers = {};
  if (key) headers.Authorization = 'Bearer ' + key;
  if (environment) headers['X-Environment'] = environment;
  root.innerHTML = '';
  render(root, Object.assign({}, options, { additionalHeaders: Object.assign({}, options.additionalHeaders, headers) }));
};
</script>`;

/** The call of yoga's page that renders GraphiQL (`@graphql-yoga/render-graphiql`'s template). */
const RENDER_CALL = 'YogaGraphiQL.renderYogaGraphiQL(';

/**
 * Yoga's GraphiQL page with Vigil's key handling: its render call goes through `vigilGraphiQL`, which renders the
 * same options once the key is known. Yoga has no hook for headers decided in the browser, so this edits the
 * page's one render call; when a release of @graphql-yoga/render-graphiql changes that call this throws (the first
 * GraphiQL request fails, and so does test/ui/graphiql.test.ts), rather than serving a GraphiQL without the key.
 */
export function withApiKey(html: string): string {
  const at = html.lastIndexOf(RENDER_CALL);
  if (at < 0 || html.indexOf(RENDER_CALL) !== at) {
    throw new Error(`GraphiQL page: expected one ${RENDER_CALL} call (a new @graphql-yoga/render-graphiql?)`);
  }
  const head = html.indexOf('<head>') + '<head>'.length; // before the inlined bundle, which is in the body
  if (head < '<head>'.length || head > at) throw new Error('GraphiQL page: no <head> before the render call');
  return (
    html.slice(0, head) +
    BOOTSTRAP +
    html.slice(head, at) +
    `window.vigilGraphiQL(YogaGraphiQL.renderYogaGraphiQL, ` +
    html.slice(at + RENDER_CALL.length)
  );
}
