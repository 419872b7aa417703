/**
 * Security through the compiled devhost (offline):
 *
 * - Keys: every HTTP route's auth level (read from the registrations) is the one the contract gives
 *   it (docs/architecture.md's HTTP table and docs/api.md, written down below, so a route whose authLevel drifts fails;
 *   routes the contract does not list must at least follow its rules: ops is admin, manage and
 *   changes need a key), and the host enforces it: function routes refuse no key and a wrong key and
 *   take the function or the master key (header or `?code=`); admin routes refuse the function key
 *   and take only the master key; anonymous routes need none.
 * - The durable management webhooks (/runtime/webhooks/durabletask/…), the Event Grid webhook
 *   (/runtime/webhooks/eventgrid) and the devhost's Event Grid topic refuse without the right key.
 * - Nothing leaks: every answer of a crawl of every endpoint with good and bad input (successes,
 *   problems, 401s, 404s, unknown routes and methods, hostile paths) is searched, body and headers,
 *   for a durable management URL, any of the host's keys, the Event Grid topic key, the storage and
 *   Cosmos keys, connection-string parts (`AccountKey=`, `code=`…) and stack traces.
 * - CORS: preflights and requests from an allowed origin (local.settings `Host.CORS`) get the CORS
 *   headers, from any other origin none.
 */
import { existsSync, readdirSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EMULATOR_KEY } from 'functions-devhost/cosmos/localCosmosEndpoint';
import { durableSystemKey } from 'functions-devhost/durable/httpApi';
import { registeredFunctions } from 'functions-devhost/functionsCore';
import { triggerOf } from 'functions-devhost/invoke';
import { readLocalSettings } from 'functions-devhost/settings';
import { DEV_ACCOUNT_KEY } from 'functions-devhost/storage/azurite';
import { CONTENT_TYPES, PAGES } from '../../shared/platform/http/staticSite';
import { API_OPERATIONS, type Access } from '../../shared/platform/composition/openApi';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';
import {
  answerOf,
  keyAuthorises,
  loadHttpEndpoints,
  pathOf,
  root,
  type Answer,
  type AuthLevel,
  type HttpEndpoint,
  type KeyChoice,
  type ParamValue,
} from './support/endpoints';

const endpoints = loadHttpEndpoints();
const eventGridFunctions = registeredFunctions()
  .filter((registration) => triggerOf(registration).binding.type === 'eventGridTrigger')
  .map((registration) => registration.metadata.name);
const settings = readLocalSettings(root);

/**
 * Who may call what: the host's auth level, or, on the routes people use, the app's own check on an
 * anonymous route (`app:editor`: a signed-in approved editor, or a function key; `app:admin`: the admin
 * role, or the master key; `app:person`: a signed-in person only). The original design's table (anyone,
 * editor, admin), as people-not-keys changed it, and the routes added since; docs/architecture.md
 * lists them all. Keyed by method and route, parameter names left out.
 */
type Who = AuthLevel | `app:${Access}`;
const CONTRACT: Readonly<Record<string, Who>> = {
  // the original design (editors and admins sign in now; keys still serve machines)
  'POST api/places': 'app:editor',
  'GET api/places/{}': 'anonymous',
  'PATCH api/places/{}': 'app:editor',
  'POST api/places/{}/approve': 'app:admin',
  'POST api/places/{}/reject': 'app:admin',
  'GET api/places/nearby': 'anonymous',
  'GET api/places/newest': 'anonymous',
  'GET api/regions/{}/forecast': 'anonymous',
  'GET api/health': 'anonymous',
  'GET api/ops/forecast-refresh': 'admin',
  // added since (docs/architecture.md, "Changes from the original contract")
  'POST api/places/{}/withdraw': 'app:editor',
  'POST api/ops/rebuild-views': 'admin',
  'GET api/manage/places/{}': 'app:editor',
  'GET api/manage/places': 'app:editor',
  // the parents' questions: anyone may ask when to go, and editors' forms read opening hours back
  'GET api/places/{}/best-times': 'anonymous',
  'GET api/opening-hours/week': 'anonymous',
  // the API's description, generated from its schemas: anyone may read it
  'GET api/openapi.json': 'anonymous',
  // people: who is signed in, editor access, revisions
  'GET api/me': 'app:person',
  'POST api/editor-access': 'app:person',
  'GET api/manage/editors': 'app:admin',
  'POST api/editors/{}/approve': 'app:admin',
  'POST api/editors/{}/suspend': 'app:admin',
  'POST api/places/{}/revisions/{}/approve': 'app:admin',
  'POST api/places/{}/revisions/{}/reject': 'app:admin',
  // the host says which level a machine's key has: each guarded at its level
  'GET api/keys/function': 'function',
  'GET api/keys/admin': 'admin',
};

const contractKey = (method: string, route: string) => `${method} ${route.replace(/\{[^}]*\}/g, '{}').toLowerCase()}`;

/** Who may call an endpoint as the app registers and documents it: the app's own check if it has one, else the host's level. */
function whoOf(endpoint: HttpEndpoint): Who {
  const access = API_OPERATIONS.find((operation) => operation.functionName === endpoint.name)?.access;
  return access ? `app:${access}` : endpoint.authLevel;
}

/** The contract's rules for a route it does not list: operations are for admins, editors' reads and every change need a caller. */
function leastLevelFor(method: string, route: string): AuthLevel {
  if (/^api\/ops(\/|$)/i.test(route)) return 'admin';
  if (/^api\/manage(\/|$)/i.test(route) || method !== 'GET') return 'function';
  return 'anonymous';
}

const STRENGTH: Readonly<Record<Who, number>> = {
  anonymous: 0,
  function: 1,
  'app:editor': 1,
  'app:person': 1,
  admin: 2,
  'app:admin': 2,
};

/** What a request with this key gets: handled, refused (401) or forbidden (403, a caller the app knows but will not serve here). */
function outcomeFor(who: Who, key: KeyChoice): 'handled' | 'refused' | 'forbidden' {
  if (who === 'anonymous' || who === 'function' || who === 'admin') return keyAuthorises(who, key) ? 'handled' : 'refused';
  if (key === 'none' || key === 'wrong') return 'refused';
  if (who === 'app:editor') return 'handled';
  if (who === 'app:admin') return key === 'master' ? 'handled' : 'forbidden';
  return 'forbidden';
}

/** The key a crawl sends to reach an endpoint's handler (people-only routes get none: they answer 401). */
function keyFor(endpoint: HttpEndpoint): KeyChoice {
  const who = whoOf(endpoint);
  if (who === 'function' || who === 'app:editor') return 'function';
  if (who === 'admin' || who === 'app:admin') return 'master';
  return 'none';
}

// ---------------------------------------------------------------------------------------------

interface Crawled {
  readonly label: string;
  readonly answer: Answer;
}

/** The site's pages (as the app names them) and its files under web/assets/ that it serves. */
function sitePaths(): string[] {
  const assets = join(root, 'web', 'assets');
  const files = existsSync(assets)
    ? readdirSync(assets, { recursive: true, encoding: 'utf8' }).filter((file) => extname(file).toLowerCase() in CONTENT_TYPES)
    : [];
  return [...Object.keys(PAGES).map((page) => `/${page}`), ...files.map((file) => `/assets/${file.split(sep).join('/')}`)];
}

const UNKNOWN_PLACE_ID = '0b6f2d4c-1a3e-4f5b-8c7d-9e0f1a2b3c4d';

/** Valid-looking values for route parameters, by name. */
function plainValues(endpoint: HttpEndpoint, placeId = UNKNOWN_PLACE_ID): Record<string, ParamValue | undefined> {
  const byName: Record<string, ParamValue | undefined> = {
    id: { text: placeId },
    region: { text: 'gcw2h' },
    page: undefined,
    file: { text: 'site.css' },
  };
  return Object.fromEntries(
    endpoint.parameters.map((parameter) => [parameter.name, parameter.name in byName ? byName[parameter.name] : { text: 'x' }]),
  );
}

/** A harmless body for a method that takes one: no command takes `{}` as a change of anything that exists. */
const HARMLESS_BODY = '{}';

describe('security: keys, webhooks, leaks and CORS through the devhost', () => {
  let devhost: DevhostProcess;
  let topicKey: string;
  const crawl: Crawled[] = [];
  const started = performance.now();

  const keyText = (key: KeyChoice): string | undefined =>
    key === 'none'
      ? undefined
      : key === 'wrong'
        ? 'wrong-key-for-this-host'
        : key === 'function'
          ? devhost.keys.functionKey
          : devhost.keys.masterKey;

  /** Sends a request and keeps the answer for the leak search. */
  async function call(
    label: string,
    path: string,
    init: RequestInit & { key?: KeyChoice; keyVia?: 'header' | 'query'; keep?: boolean } = {},
  ): Promise<Answer> {
    const { key = 'none', keyVia = 'header', keep = true, ...rest } = init;
    const headers = new Headers(rest.headers);
    const text = keyText(key);
    let url = `${devhost.url}${path}`;
    if (text !== undefined && keyVia === 'header') headers.set('x-functions-key', text);
    if (text !== undefined && keyVia === 'query') url += `${path.includes('?') ? '&' : '?'}code=${encodeURIComponent(text)}`;
    const answer = await answerOf(await fetch(url, { ...rest, headers }));
    if (keep) crawl.push({ label: `${rest.method ?? 'GET'} ${path} (key ${key} by ${keyVia}) → ${answer.status}`, answer });
    return answer;
  }

  const json = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

  beforeAll(async () => {
    devhost = await startDevhostProcess({ args: ['--quiet'] });
    topicKey = process.env.EVENTGRID_TOPIC_KEY ?? settings.values.EVENTGRID_TOPIC_KEY ?? 'local-event-grid-topic-key';
  }, 60_000);

  afterAll(async () => {
    await devhost.stop();
    console.log(
      `Security: ${crawl.length} answers searched for leaks, ${endpoints.length} endpoints, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  });

  describe('keys', () => {
    it("every route's auth level is the contract's (architecture.md), and unlisted routes follow its rules", () => {
      const registered = new Map(
        endpoints.flatMap((endpoint) => endpoint.methods.map((method) => [contractKey(method, endpoint.route), endpoint] as const)),
      );
      // Every route of the contract is served, with exactly its auth level (anonymous where the app decides) and access.
      for (const [route, who] of Object.entries(CONTRACT)) {
        const endpoint = registered.get(route);
        expect({ route, authLevel: endpoint?.authLevel, who: endpoint && whoOf(endpoint) }).toEqual({
          route,
          authLevel: who.startsWith('app:') ? 'anonymous' : who,
          who,
        });
      }
      // Routes the contract does not list are at least as guarded as its rules say.
      const unlisted = [...registered].filter(([route]) => !(route in CONTRACT));
      for (const [route, endpoint] of unlisted) {
        const [method = 'GET'] = route.split(' ');
        const least = leastLevelFor(method, endpoint.route);
        expect({ route, atLeast: least, ok: STRENGTH[whoOf(endpoint)] >= STRENGTH[least] }).toEqual({ route, atLeast: least, ok: true });
      }
      console.log(
        `Routes not in the contract table, checked by its rules: ${unlisted.map(([route, endpoint]) => `${route} (${endpoint.authLevel})`).join(', ')}`,
      );
    });

    it.each(endpoints.map((endpoint) => [`${endpoint.methods.join(',')} /${endpoint.route}`, endpoint] as const))(
      '%s: the host enforces its auth level, or the app its access',
      async (_label, endpoint) => {
        for (const method of endpoint.methods) {
          const path = pathOf(endpoint, plainValues(endpoint));
          const init = (): RequestInit => (method === 'GET' || method === 'HEAD' ? { method } : json(method, JSON.parse(HARMLESS_BODY)));
          const cases: { key: KeyChoice; keyVia: 'header' | 'query' }[] = [
            { key: 'none', keyVia: 'header' },
            { key: 'wrong', keyVia: 'header' },
            { key: 'wrong', keyVia: 'query' },
            { key: 'function', keyVia: 'header' },
            { key: 'function', keyVia: 'query' },
            { key: 'master', keyVia: 'header' },
            { key: 'master', keyVia: 'query' },
          ];
          for (const { key, keyVia } of cases) {
            const answer = await call(endpoint.name, path, { ...init(), key, keyVia });
            const expected = outcomeFor(whoOf(endpoint), key);
            expect({
              method,
              path,
              key,
              keyVia,
              outcome: answer.status === 401 ? 'refused' : answer.status === 403 ? 'forbidden' : 'handled',
            }).toEqual({ method, path, key, keyVia, outcome: expected });
            // The host refuses with no body; the app with a problem document.
            if (expected === 'refused' && endpoint.authLevel !== 'anonymous') expect(answer.text).toBe('');
            if (expected !== 'handled' && endpoint.authLevel === 'anonymous') {
              expect({ path, key, type: answer.headers.get('content-type') }).toEqual({ path, key, type: 'application/problem+json' });
            }
          }
          if (keyFor(endpoint) !== 'none') {
            // Near misses of a right key are wrong keys; a wrong header is not rescued by a right ?code=.
            const right = keyFor(endpoint) === 'master' ? devhost.keys.masterKey : devhost.keys.functionKey;
            for (const near of [right.toUpperCase(), `${right}x`, right.slice(0, -1), ` ${right}x`, '', 'null', 'undefined']) {
              expect({
                near,
                status: (
                  await call(endpoint.name, path, {
                    ...init(),
                    headers: { ...Object.fromEntries(new Headers(init().headers)), 'x-functions-key': near },
                  })
                ).status,
              }).toEqual({ near, status: 401 });
            }
            const both = await call(endpoint.name, `${path}?code=${encodeURIComponent(right)}`, {
              ...init(),
              headers: { ...Object.fromEntries(new Headers(init().headers)), 'x-functions-key': 'wrong' },
              keep: false,
            });
            expect(both.status).toBe(401);
          }
        }
      },
    );

    it('people signed in through the sign-in page get what their role allows on every route the app guards, and no more', async () => {
      const signIn = async (userId: string, roles: string): Promise<Record<string, string>> => {
        const answer = await fetch(`${devhost.url}/.auth/login/aad/callback`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ userId, userDetails: userId, roles, post_login_redirect_uri: '/' }).toString(),
          redirect: 'manual',
        });
        return { cookie: (answer.headers.get('set-cookie') ?? '').split(';')[0] ?? '' };
      };
      // Someone signed in who is neither an approved editor nor an admin, and an admin.
      const stranger = await signIn('security-stranger', '');
      const admin = await signIn('security-admin', 'admin');
      for (const endpoint of endpoints) {
        const who = whoOf(endpoint);
        if (!who.startsWith('app:')) continue;
        for (const method of endpoint.methods) {
          const path = pathOf(endpoint, plainValues(endpoint));
          const init = (headers: Record<string, string>): RequestInit =>
            method === 'GET' ? { method, headers } : json(method, JSON.parse(HARMLESS_BODY), headers);
          const asStranger = await call(endpoint.name, path, init(stranger));
          const asAdmin = await call(endpoint.name, path, init(admin));
          // A stranger is refused (403) wherever an editor or admin is needed; a read of an unknown place may say so first (404).
          const allowed = who === 'app:person' ? 'not 401 or 403' : who === 'app:editor' && method === 'GET' ? '403 or 404' : '403';
          const got = [401, 403].includes(asStranger.status)
            ? String(asStranger.status)
            : who === 'app:editor' && method === 'GET' && asStranger.status === 404
              ? '404'
              : 'handled';
          const fits =
            allowed === 'not 401 or 403' ? got === 'handled' : allowed === '403 or 404' ? got === '403' || got === '404' : got === '403';
          expect({ route: `${method} ${path}`, allowed, got, fits }).toEqual({ route: `${method} ${path}`, allowed, got, fits: true });
          expect({ route: `${method} ${path}`, admin: [401, 403].includes(asAdmin.status) }).toEqual({
            route: `${method} ${path}`,
            admin: false,
          });
        }
      }
    });

    it('the durable management webhooks refuse no key, a wrong key and the function key; only the master key gets in', async () => {
      const probes: [string, string][] = [
        ['GET', '/runtime/webhooks/durabletask/instances/forecast-refresh'],
        ['GET', '/runtime/webhooks/durabletask/instances'],
        ['GET', '/runtime/webhooks/durabletask/instances/forecast-refresh?showHistory=true'],
        ['POST', '/runtime/webhooks/durabletask/orchestrators/forecastRefresh'],
        ['POST', '/runtime/webhooks/durabletask/instances/forecast-refresh/terminate?reason=test'],
        ['POST', '/runtime/webhooks/durabletask/instances/forecast-refresh/raiseEvent/x'],
        ['DELETE', '/runtime/webhooks/durabletask/instances/forecast-refresh'],
        ['GET', '/RUNTIME/WEBHOOKS/DURABLETASK/instances/forecast-refresh'],
        ['GET', '/runtime/webhooks/durabletask/entities/x/y'],
      ];
      for (const [method, path] of probes) {
        for (const key of ['none', 'wrong', 'function'] as const) {
          for (const keyVia of ['header', 'query'] as const) {
            const answer = await call('durable', path, { method, key, keyVia, ...(method === 'POST' && { body: '{}' }) });
            expect({ method, path, key, keyVia, status: answer.status }).toEqual({ method, path, key, keyVia, status: 401 });
          }
        }
      }
      // The master key gets in (the 401s above are the key check, not a missing route). Its answers are the
      // management API's own, for admins, and are not searched for management URLs.
      const status = await call('durable (master key)', '/runtime/webhooks/durabletask/instances/forecast-refresh', {
        key: 'master',
        keep: false,
      });
      expect([200, 202]).toContain(status.status);
    });

    it('the Event Grid webhook refuses no key, a wrong key and the function key, for every eventGrid-triggered function', async () => {
      expect(eventGridFunctions.length).toBeGreaterThan(0);
      const validation = [
        {
          id: 'v1',
          eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
          subject: '',
          eventTime: new Date().toISOString(),
          dataVersion: '1',
          data: { validationCode: 'code-123' },
        },
      ];
      for (const functionName of [...eventGridFunctions, 'noSuchFunction']) {
        const path = `/runtime/webhooks/eventgrid?functionName=${encodeURIComponent(functionName)}`;
        for (const key of ['none', 'wrong', 'function'] as const) {
          for (const keyVia of ['header', 'query'] as const) {
            for (const type of ['SubscriptionValidation', 'Notification']) {
              const answer = await call('eventgrid webhook', path, {
                ...json('POST', validation, { 'aeg-event-type': type }),
                key,
                keyVia,
              });
              expect({ functionName, key, keyVia, type, status: answer.status }).toEqual({ functionName, key, keyVia, type, status: 401 });
            }
          }
        }
      }
      // With the master key the handshake is answered (so the 401s are the key check); no event is delivered.
      const [first] = eventGridFunctions;
      const shaken = await call('eventgrid webhook (master key)', `/runtime/webhooks/eventgrid?functionName=${first ?? ''}`, {
        ...json('POST', validation, { 'aeg-event-type': 'SubscriptionValidation' }),
        key: 'master',
      });
      expect({ status: shaken.status, body: JSON.parse(shaken.text) as unknown }).toEqual({
        status: 200,
        body: { validationResponse: 'code-123' },
      });
    });

    it("the devhost's Event Grid topic refuses publishers without the topic key (and the host's keys are not topic keys)", async () => {
      const event = { specversion: '1.0', id: 'x', type: 'VisitPlannr.Nothing', source: '/x', data: {} };
      const publish = (headers: Record<string, string>) =>
        call('topic', '/devhost/eventgrid/api/events', {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents-batch+json; charset=utf-8', ...headers },
          body: JSON.stringify([event]),
        });
      const refused: Record<string, string>[] = [
        {},
        { 'aeg-sas-key': 'wrong' },
        { 'aeg-sas-key': devhost.keys.functionKey },
        { 'aeg-sas-key': devhost.keys.masterKey },
        { 'x-functions-key': devhost.keys.masterKey },
        { 'aeg-sas-token': 'r=x&e=1/1/2100 1:00:00 AM&s=bm90LWEtc2lnbmF0dXJl' },
        { 'aeg-sas-key': `${topicKey}x` },
      ];
      for (const headers of refused) expect({ headers, status: (await publish(headers)).status }).toEqual({ headers, status: 401 });
      // The topic key gets past the check: a body that is not a batch is then the topic's 400 (nothing is published).
      const accepted = await call('topic (topic key)', '/devhost/eventgrid/api/events', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'aeg-sas-key': topicKey },
        body: 'not events',
      });
      expect(accepted.status).not.toBe(401);
      expect(accepted.status).toBeLessThan(500);
    });
  });

  describe('leaks', () => {
    it('crawls every endpoint with good input: a place proposed, validated, approved, read, searched, changed and withdrawn', async () => {
      const proposal = {
        name: 'Chester Zoo',
        geolocation: { latitude: 53.2268, longitude: -2.8846 },
        kind: 'outdoor',
        price: { free: false, adultGBP: 30 },
      };
      const proposed = await call('propose', '/api/places', {
        ...json('POST', proposal, { 'idempotency-key': 'security-crawl-1', 'x-correlation-id': 'security-crawl' }),
        key: 'function',
        keyVia: 'query',
      });
      expect(proposed.status).toBe(202);
      const { placeId } = JSON.parse(proposed.text) as { placeId: string };
      // The same key again answers as before; with another body it is a 422.
      expect(
        (
          await call('propose again', '/api/places', {
            ...json('POST', proposal, { 'idempotency-key': 'security-crawl-1' }),
            key: 'function',
          })
        ).status,
      ).toBe(202);
      expect(
        (
          await call('propose reused key', '/api/places', {
            ...json('POST', { ...proposal, name: 'Other' }, { 'idempotency-key': 'security-crawl-1' }),
            key: 'function',
          })
        ).status,
      ).toBe(422);

      let place: { status?: string; region?: string; version?: number } = {};
      for (const deadline = Date.now() + 30_000; place.status !== 'locationValidated' && Date.now() < deadline;) {
        const answer = await call('manage place', `/api/manage/places/${placeId}`, { key: 'function' });
        if (answer.status === 200) place = JSON.parse(answer.text) as typeof place;
        else await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(place.status).toBe('locationValidated');
      expect((await call('approve early', `/api/places/${UNKNOWN_PLACE_ID}/approve`, { method: 'POST', key: 'master' })).status).toBe(404);
      expect(
        (await call('approve', `/api/places/${placeId}/approve`, { ...json('POST', {}), key: 'master', keyVia: 'query' })).status,
      ).toBe(200);
      expect(
        (
          await call('patch stale', `/api/places/${placeId}`, {
            ...json('PATCH', { description: 'Lions' }, { 'if-match': '"1"' }),
            key: 'function',
          })
        ).status,
      ).toBe(412);
      expect(
        (await call('patch no if-match', `/api/places/${placeId}`, { ...json('PATCH', { description: 'Lions' }), key: 'function' })).status,
      ).toBe(428);
      expect(
        (
          await call('patch any version', `/api/places/${placeId}`, {
            ...json('PATCH', { description: 'Lions' }, { 'if-match': '*' }),
            key: 'master',
          })
        ).status,
      ).toBe(428);
      // Approved: one version past the validated place read above.
      const patched = await call('patch', `/api/places/${placeId}`, {
        ...json('PATCH', { description: 'Lions' }, { 'if-match': `"${(place.version ?? 0) + 1}"` }),
        key: 'master',
      });
      expect(patched.status).toBe(200);
      expect(
        (await call('reject approved', `/api/places/${placeId}/reject`, { ...json('POST', { reason: 'no' }), key: 'master' })).status,
      ).toBe(409);

      // The read side follows the change feed; the region's forecast follows its activation.
      let read: Answer | undefined;
      for (const deadline = Date.now() + 30_000; read?.status !== 200 && Date.now() < deadline;) {
        read = await call('get place', `/api/places/${placeId}`);
        if (read.status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(read?.status).toBe(200);
      let forecast: Answer | undefined;
      for (const deadline = Date.now() + 30_000; forecast?.status !== 200 && Date.now() < deadline;) {
        forecast = await call('region forecast', `/api/regions/${place.region ?? 'x'}/forecast`);
        if (forecast.status !== 200) await new Promise((resolve) => setTimeout(resolve, 300));
      }
      expect(forecast?.status).toBe(200);
      expect((await call('nearby', '/api/places/nearby?lat=53.2268&lon=-2.8846&radiusKm=5')).status).toBe(200);
      expect((await call('newest', '/api/places/newest?limit=5')).status).toBe(200);
      expect((await call('manage list', '/api/manage/places?status=approved', { key: 'function' })).status).toBe(200);
      expect((await call('health', '/api/health')).status).toBe(200);
      expect([200, 404]).toContain((await call('forecast refresh', '/api/ops/forecast-refresh', { key: 'master' })).status);
      expect((await call('rebuild views', '/api/ops/rebuild-views', { method: 'POST', key: 'master' })).status).toBe(200);
      expect(
        (await call('withdraw', `/api/places/${placeId}/withdraw`, { ...json('POST', { reason: 'Closed' }), key: 'master' })).status,
      ).toBe(200);
      expect(
        (await call('withdraw again', `/api/places/${placeId}/withdraw`, { ...json('POST', { reason: 'Closed' }), key: 'master' })).status,
      ).toBe(200);
      for (const page of sitePaths()) expect({ page, status: (await call('site', page)).status }).toEqual({ page, status: 200 });

      // Every endpoint once more with its plain input and the key it needs (new routes included).
      for (const endpoint of endpoints) {
        for (const method of endpoint.methods) {
          const answer = await call(endpoint.name, pathOf(endpoint, plainValues(endpoint, placeId)), {
            ...(method === 'GET' ? { method } : json(method, {})),
            key: keyFor(endpoint),
          });
          expect({ endpoint: endpoint.name, status: answer.status < 500 }).toEqual({ endpoint: endpoint.name, status: true });
        }
      }
    }, 120_000);

    it('crawls every endpoint with bad input, unknown routes, wrong methods and hostile paths', async () => {
      const bad: [string, RequestInit][] = [
        ['not JSON', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": ' }],
        [
          '10,000 levels',
          { method: 'POST', headers: { 'content-type': 'application/json' }, body: `${'['.repeat(10_000)}${']'.repeat(10_000)}` },
        ],
        [
          '70 KB',
          { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ description: 'x'.repeat(70_000) }) },
        ],
        ['text/plain', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }],
        ['__proto__', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"__proto__":{"polluted":true}}' }],
        [
          'wrong types',
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'if-match': 'W/"x"', 'idempotency-key': 'a b' },
            body: '{"name":[],"reason":{},"geolocation":"x"}',
          },
        ],
      ];
      const hostile: ParamValue[] = [
        { text: '../../local.settings.json' },
        { text: '%2e%2e', raw: true },
        { text: '<script>alert(1)</script>' },
        { text: "' OR 1=1 --" },
        { text: 'x'.repeat(500) },
        { text: '\u0000' },
        { text: '__proto__' },
      ];
      for (const endpoint of endpoints) {
        for (const method of endpoint.methods) {
          const key = keyFor(endpoint);
          const path = pathOf(endpoint, plainValues(endpoint));
          if (method === 'GET') {
            for (const query of [
              '?lat=abc&lon=1e400',
              '?limit=-1&limit=999',
              '?status=__proto__',
              '?q=%E0%A4%A',
              `?q=${'x'.repeat(300)}`,
              '?constructor=1&toString=2',
            ])
              await call(endpoint.name, `${path}${query}`, { key, keyVia: 'query' });
          } else {
            for (const [, init] of bad) await call(endpoint.name, path, { ...init, method, key });
          }
          for (const value of hostile) {
            if (endpoint.parameters.length === 0) break;
            const values = Object.fromEntries(endpoint.parameters.map((parameter) => [parameter.name, value]));
            await call(endpoint.name, pathOf(endpoint, values), { ...(method === 'GET' ? { method } : { ...bad[0]?.[1], method }), key });
          }
          for (const other of ['PUT', 'DELETE', 'HEAD', 'OPTIONS'].filter((candidate) => !endpoint.methods.includes(candidate)))
            await call(endpoint.name, path, { method: other, key });
        }
      }
      const unknown = [
        '/api/nope',
        '/api',
        '/api/places/x/y/z',
        '/api/test/event-count',
        '/.env',
        '/local.settings.json',
        '/.devhost/keys.json',
        '/package.json',
        '/host.json',
        '/dist/shared/platform/composition/appServices.js',
        '/assets/../local.settings.json',
        '/assets/..%2f..%2flocal.settings.json',
        '/assets/%2e%2e/%2e%2e/local.settings.json',
        '/assets/js/../../../package.json',
        '/assets/js/api.js.map',
        '/assets/.hidden',
        '/admin/host/keys',
        '/admin/functions/proposePlace/keys',
        '/runtime/webhooks/durabletask',
        '/runtime/webhooks/eventgrid',
        '/runtime/webhooks/eventgrid?functionName=nope',
        '/devhost/control/restart-cosmos',
        '/devhost/eventgrid/api/events',
      ];
      for (const path of unknown) {
        for (const key of ['none', 'function'] as const) {
          const answer = await call('unknown route', path, { key });
          expect({ path, status: answer.status < 500 }).toEqual({ path, status: true });
        }
      }
    }, 120_000);

    it('no answer carries a durable management URL, a key, a connection string or a stack trace', () => {
      expect(crawl.length).toBeGreaterThan(300);
      const secrets: [string, string][] = [
        ['the function key', devhost.keys.functionKey],
        ['the master key', devhost.keys.masterKey],
        ["the durable extension's system key", durableSystemKey(devhost.keys)],
        ['the Event Grid topic key', topicKey],
        ['the storage account key', DEV_ACCOUNT_KEY],
        ['the Cosmos DB key', EMULATOR_KEY],
        ...Object.entries(settings.values)
          .filter(([name, value]) => /KEY|CONNECTION|SECRET|PASSWORD|AzureWebJobsStorage/i.test(name) && value.length >= 8)
          .map(([name, value]): [string, string] => [`the setting ${name}`, value]),
      ];
      const patterns: [string, RegExp][] = [
        ['a durable management URL', /\/runtime\/webhooks\/durabletask/i],
        ['a key in a URL (code=)', /[?&]code=|\bcode=[\w-]{8,}/i],
        ['a connection string (AccountKey=)', /AccountKey=/i],
        ['a connection string (AccountEndpoint=)', /AccountEndpoint=/i],
        ['a connection string (DefaultEndpointsProtocol=)', /DefaultEndpointsProtocol=/i],
        ['a connection string (UseDevelopmentStorage)', /UseDevelopmentStorage/i],
        ['a shared access signature', /SharedAccessSignature|[?&]sig=/i],
        ['a stack frame', /\bat (?:[\w$.<>[\] ]+ )?\(?(?:\/|[A-Za-z]:\\|node:|file:)[^\s)]*:\d+:\d+\)?/],
        ['an error with a file path', /\b\w*Error\b[^\n]{0,200}(?:\/[\w.-]+){2,}\.(?:js|ts|mjs|cjs)\b/],
        ["the app's folder", new RegExp(root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))],
        ['node_modules paths', /node_modules[\\/]/],
      ];
      const leaks: string[] = [];
      for (const { label, answer } of crawl) {
        const headerText = [...answer.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
        for (const [where, text] of [
          ['body', answer.text],
          ['headers', headerText],
        ] as const) {
          for (const [what, secret] of secrets) if (text.includes(secret)) leaks.push(`${label}: ${what} in the ${where}`);
          for (const [what, pattern] of patterns)
            if (pattern.test(text))
              leaks.push(
                `${label}: ${what} in the ${where}: …${text.slice(Math.max(0, (pattern.exec(text)?.index ?? 0) - 40), (pattern.exec(text)?.index ?? 0) + 80)}…`,
              );
        }
      }
      expect(leaks).toEqual([]);
      // The search covered successes, client errors, refusals and not-founds.
      const statuses = new Set(crawl.map(({ answer }) => answer.status));
      for (const status of [200, 202, 400, 401, 404, 409, 412, 413, 415, 422, 428])
        expect({ status, seen: statuses.has(status) }).toEqual({ status, seen: true });
    });
  });

  describe('CORS', () => {
    const others = [
      'https://evil.example',
      'http://localhost:7071.evil.example',
      'http://evil.localhost:7071',
      'null',
      'http://localhost:7072',
      'https://localhost:7071',
      'http://localhost',
    ];

    it('the allowed origins come from local.settings (Host.CORS), and none is a wildcard', () => {
      expect(settings.corsOrigins.length).toBeGreaterThan(0);
      expect(settings.corsOrigins).not.toContain('*');
      for (const other of others) expect(settings.corsOrigins).not.toContain(other);
    });

    it.each(endpoints.map((endpoint) => [`${endpoint.methods.join(',')} /${endpoint.route}`, endpoint] as const))(
      '%s: allowed origins get the CORS headers, any other origin none',
      async (_label, endpoint) => {
        const path = pathOf(endpoint, plainValues(endpoint));
        const key = keyFor(endpoint);
        for (const method of endpoint.methods) {
          const requestHeaders = 'content-type,x-functions-key,if-match,idempotency-key,x-correlation-id';
          const preflight = (origin: string) =>
            call('preflight', path, {
              method: 'OPTIONS',
              headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': requestHeaders },
            });
          const actual = (origin: string) =>
            call('cors', path, {
              ...(method === 'GET' ? { method } : json(method, {})),
              headers: { origin, ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
              key,
            });
          for (const origin of settings.corsOrigins) {
            const before = await preflight(origin);
            expect({ origin, method, status: before.status >= 200 && before.status < 300 }).toEqual({ origin, method, status: true });
            expect(before.headers.get('access-control-allow-origin')).toBe(origin);
            expect(before.headers.get('access-control-allow-methods')?.toUpperCase()).toContain(method);
            for (const header of requestHeaders.split(','))
              expect(before.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(header);
            expect(before.headers.get('vary')?.toLowerCase()).toContain('origin');
            const answer = await actual(origin);
            expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
            expect(answer.headers.get('vary')?.toLowerCase()).toContain('origin');
          }
          for (const origin of others) {
            for (const answer of [await preflight(origin), await actual(origin)]) {
              const cors = [...answer.headers.keys()].filter((name) => name.startsWith('access-control-'));
              expect({ origin, method, cors }).toEqual({ origin, method, cors: [] });
            }
          }
          // No origin at all (a server-to-server call): no CORS headers either.
          const plain = await call('no origin', path, { ...(method === 'GET' ? { method } : json(method, {})), key });
          expect([...plain.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
        }
      },
    );
  });
});
