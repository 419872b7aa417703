import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerDefinition, CosmosClient } from '@azure/cosmos';
import { EVENT_GRID_CONFIG_FILE, loadSubscriptions, type Subscription } from 'functions-devhost/eventGrid/subscriptions';
import { registeredFunctions, type Registration } from 'functions-devhost/functionsCore';
import { triggerOf } from 'functions-devhost/invoke';
import { ConfigError, loadConfig } from '../../shared/platform/config';
import { ensureCosmosContainers } from '../../shared/platform/adapters/cosmosClient';
import { FORECAST_REFRESH_QUEUE } from '../../shared/regions/application/forecastRefreshRequests';

/*
 * The Bicep template (infra/) checked against the app, without Azure: every app setting it sets is one
 * the app or the host reads and every one they need is set (the app's own loadConfig judges the
 * template's values), each Event Grid subscription is an eventGrid-triggered function with the
 * devhost's filter, the Cosmos containers are the ones the app creates, the runtime defaults to
 * Node 22 on Flex Consumption (Node 20 reached end of life in April 2026; the template still allows
 * it as a parameter), sign-in (App Service Authentication) only with an app registration and never
 * blocking anonymous callers, and no secret in an output. A small reader of the Bicep text finds what
 * it needs; each check returns its problems, and the last block shows each one failing on a broken
 * copy of the template.
 */

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Template {
  readonly main: string;
  readonly storage: string;
  readonly cosmos: string;
  readonly eventGrid: string;
  readonly eventSubscriptions: string;
  readonly bicepparam: string;
}

const template: Template = {
  main: read('infra/main.bicep'),
  storage: read('infra/modules/storage.bicep'),
  cosmos: read('infra/modules/cosmos.bicep'),
  eventGrid: read('infra/modules/eventGrid.bicep'),
  eventSubscriptions: read('infra/modules/eventSubscriptions.bicep'),
  bicepparam: read('infra/main.bicepparam'),
};

// ---------------------------------------------------------------------------------------------------
// A reader for the part of Bicep the template uses: comments, 'strings' with ${…} interpolation,
// nested {…} [ … ] (…), `param` lines with decorators, `var x = …`, `resource s 'type@version' = …`.

const CLOSERS: Readonly<Record<string, string>> = { '{': '}', '[': ']', '(': ')' };

/** Index just past the string literal that opens at `start`, interpolations included. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === "'") return i + 1;
    else if (c === '$' && text[i + 1] === '{') i = closingIndex(text, i + 1) + 1;
    else i += 1;
  }
  throw new Error(`Unterminated string at ${start}: ${text.slice(start, start + 40)}`);
}

/** Index of the bracket that closes the one at `open`, strings skipped. */
function closingIndex(text: string, open: number): number {
  const expected: string[] = [];
  let i = open;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === "'") {
      i = stringEnd(text, i);
      continue;
    }
    const closer = CLOSERS[c];
    if (closer !== undefined) expected.push(closer);
    else if (c === '}' || c === ']' || c === ')') {
      if (expected.pop() !== c) throw new Error(`Unbalanced ${c} at ${i}: ${text.slice(Math.max(0, i - 40), i + 1)}`);
      if (expected.length === 0) return i;
    }
    i += 1;
  }
  throw new Error(`Unclosed ${text[open] ?? ''} at ${open}`);
}

/** The text without // and /* *\/ comments, strings kept as they are. */
function withoutComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === "'") {
      const end = stringEnd(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (text.startsWith('//', i)) {
      const newline = text.indexOf('\n', i);
      i = newline === -1 ? text.length : newline;
    } else if (text.startsWith('/*', i)) {
      const close = text.indexOf('*/', i + 2);
      i = close === -1 ? text.length : close + 2;
    } else {
      out += text[i] ?? '';
      i += 1;
    }
  }
  return out;
}

/** The {…} or […] block that starts at or after `from`. */
function blockFrom(text: string, from: number): string {
  const open = text.slice(from).search(/[{[]/);
  if (open === -1) throw new Error(`No block after ${text.slice(from, from + 40)}`);
  return text.slice(from + open, closingIndex(text, from + open) + 1);
}

/** The value of `var name = …` (an object or array literal). */
function variable(text: string, name: string): string {
  const match = new RegExp(`\\bvar\\s+${name}\\s*=`).exec(text);
  if (!match) throw new Error(`No var ${name}`);
  return blockFrom(text, match.index + match[0].length);
}

interface Resource {
  readonly symbol: string;
  readonly type: string;
  readonly body: string;
}

/** Every `resource symbol 'type@version' … = …` whose type is `type`, with its body (a loop's item body). */
function resources(text: string, type: string): Resource[] {
  const found: Resource[] = [];
  for (const match of text.matchAll(/\bresource\s+(\w+)\s+'([^'@]+)@[^']+'[^=]*=/g)) {
    if (match[2] !== type) continue;
    const rest = match.index + match[0].length;
    const outer = blockFrom(text, rest);
    // `= [ for x in xs: { … } ]`: the body is the object after the loop's colon.
    const body = outer.startsWith('[') ? blockFrom(outer, loopColon(outer) + 1) : outer;
    found.push({ symbol: match[1] ?? '', type, body });
  }
  return found;
}

/** Index of the `:` that ends `[ for x in xs:` (brackets in `xs` skipped). */
function loopColon(loop: string): number {
  let i = 1;
  while (i < loop.length) {
    const c = loop[i] ?? '';
    if (c === "'") i = stringEnd(loop, i);
    else if (c in CLOSERS) i = closingIndex(loop, i) + 1;
    else if (c === ':') return i;
    else i += 1;
  }
  throw new Error(`Not a loop: ${loop.slice(0, 40)}`);
}

/** Top-level {…} items of an array literal. */
function objectItems(array: string): string[] {
  const items: string[] = [];
  let i = 1;
  while (i < array.length - 1) {
    const c = array[i];
    if (c === "'") i = stringEnd(array, i);
    else if (c === '{') {
      const end = closingIndex(array, i);
      items.push(array.slice(i, end + 1));
      i = end + 1;
    } else i += 1;
  }
  return items;
}

type Value =
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'block'; readonly text: string }
  | { readonly kind: 'expression'; readonly text: string };

/** The value of `key:` directly inside the object literal `object` (not in a nested one). */
function property(object: string, key: string): Value | undefined {
  let depth = 0;
  let i = 0;
  while (i < object.length) {
    const c = object[i] ?? '';
    if (c === "'") {
      i = stringEnd(object, i);
      continue;
    }
    if (c in CLOSERS) depth += 1;
    else if (c === '}' || c === ']' || c === ')') depth -= 1;
    else if (depth === 1 && /[\s{,]/.test(object[i - 1] ?? ' ') && object.startsWith(key, i)) {
      const colon = /^\s*:\s*/.exec(object.slice(i + key.length));
      if (colon) return valueAt(object, i + key.length + colon[0].length);
    }
    i += 1;
  }
  return undefined;
}

function valueAt(text: string, start: number): Value {
  const c = text[start];
  if (c === "'") {
    const end = stringEnd(text, start);
    const next = text.slice(end).match(/^\s*([,}\]\n]|$)/);
    if (next) return { kind: 'string', text: text.slice(start + 1, end - 1).replace(/\\'/g, "'") };
  }
  if (c === '{' || c === '[') return { kind: 'block', text: text.slice(start, closingIndex(text, start) + 1) };
  // An expression runs to the end of its line, or to a comma or closing bracket at its own depth.
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const d = text[i] ?? '';
    if (d === "'") {
      i = stringEnd(text, i);
      continue;
    }
    if (d in CLOSERS) depth += 1;
    else if (d === '}' || d === ']' || d === ')') {
      if (depth === 0) break;
      depth -= 1;
    } else if (depth === 0 && (d === ',' || d === '\n')) break;
    i += 1;
  }
  return { kind: 'expression', text: text.slice(start, i).trim() };
}

/** Follows `a.b.c` through nested object literals. */
function path(object: string, keys: readonly string[]): Value | undefined {
  let value: Value | undefined = { kind: 'block', text: object };
  for (const key of keys) {
    if (value?.kind !== 'block') return undefined;
    value = property(value.text, key);
  }
  return value;
}

/** Every string literal in a block, e.g. the items of ['a', 'b']. */
function stringsIn(block: string): string[] {
  const found: string[] = [];
  let i = 0;
  while (i < block.length) {
    if (block[i] === "'") {
      const end = stringEnd(block, i);
      found.push(block.slice(i + 1, end - 1));
      i = end;
    } else i += 1;
  }
  return found;
}

interface Param {
  readonly name: string;
  readonly type: string;
  readonly defaultValue: string | number | boolean | undefined;
  readonly minValue?: number;
  readonly maxValue?: number;
  readonly allowed?: readonly (string | number)[];
}

function literal(text: string): string | number | boolean | undefined {
  const trimmed = text.trim();
  if (/^'[^']*'$/.test(trimmed) && !trimmed.includes('${')) return trimmed.slice(1, -1);
  if (/^-?\d+$/.test(trimmed)) return Number(trimmed);
  if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
  return undefined;
}

/** The `param` declarations with their literal defaults and @minValue/@maxValue/@allowed decorators. */
function params(text: string): Map<string, Param> {
  const found = new Map<string, Param>();
  let decorators: Record<string, string> = {};
  for (const line of withoutComments(text).split('\n')) {
    const decorator = /^\s*@(\w+)\((.*)\)\s*$/.exec(line);
    if (decorator) {
      decorators[decorator[1] ?? ''] = decorator[2] ?? '';
      continue;
    }
    const declaration = /^\s*param\s+(\w+)\s+(\w+)(?:\s*=\s*(.+))?$/.exec(line);
    if (declaration) {
      const [, name = '', type = '', defaultText] = declaration;
      const { minValue, maxValue, allowed } = decorators;
      found.set(name, {
        name,
        type,
        defaultValue: defaultText === undefined ? undefined : literal(defaultText),
        ...(minValue !== undefined && { minValue: Number(minValue) }),
        ...(maxValue !== undefined && { maxValue: Number(maxValue) }),
        ...(allowed !== undefined && {
          allowed: allowed
            .replace(/^\[|\]$/g, '')
            .split(',')
            .map((item) => literal(item))
            .filter((item): item is string | number => typeof item === 'string' || typeof item === 'number'),
        }),
      });
    }
    if (line.trim() !== '') decorators = {};
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------
// What the template says.

interface AppSetting {
  readonly name: string;
  readonly value: Value;
}

function functionAppOf(main: string): Resource {
  const sites = resources(withoutComments(main), 'Microsoft.Web/sites');
  if (sites.length !== 1) throw new Error(`main.bicep should declare one Microsoft.Web/sites, not ${sites.length}`);
  return sites[0]!;
}

function appSettingsOf(main: string): AppSetting[] {
  const settings = path(functionAppOf(main).body, ['properties', 'siteConfig', 'appSettings']);
  if (settings?.kind !== 'block') throw new Error('main.bicep: the function app has no properties.siteConfig.appSettings list');
  return objectItems(settings.text).map((item) => {
    const name = property(item, 'name');
    const value = property(item, 'value');
    if (name?.kind !== 'string' || value === undefined)
      throw new Error(`main.bicep: an app setting without a literal name and a value: ${item}`);
    return { name: name.text, value };
  });
}

/** The param a setting's value comes straight from (`x` or `string(x)`), if any. */
function paramOf(value: Value): string | undefined {
  if (value.kind !== 'expression') return undefined;
  const match = /^(?:string\((\w+)\)|(\w+))$/.exec(value.text);
  return match ? (match[1] ?? match[2]) : undefined;
}

/**
 * The environment the template gives the app, as far as it can be known without deploying: literal
 * values and parameters' defaults as they are, resource outputs (endpoints, names, ids) as placeholders
 * of the right shape.
 */
function environmentOf(main: string): Record<string, string> {
  const declared = params(main);
  return Object.fromEntries(
    appSettingsOf(main).map(({ name, value }) => {
      if (value.kind === 'string' && !value.text.includes('${')) return [name, value.text];
      const param = paramOf(value);
      const fallback = param === undefined ? undefined : declared.get(param)?.defaultValue;
      if (fallback !== undefined) return [name, String(fallback)];
      return [name, /endpoint|url/i.test(name) ? 'https://resource.example.net/' : 'value-known-after-deployment'];
    }),
  );
}

interface SubscriberSpec {
  readonly functionName: string;
  readonly includedEventTypes: readonly string[] | undefined;
}

function subscribersOf(eventSubscriptions: string): SubscriberSpec[] {
  return objectItems(variable(withoutComments(eventSubscriptions), 'subscribers')).map((item) => {
    const name = property(item, 'functionName');
    const types = property(item, 'includedEventTypes');
    if (name?.kind !== 'string') throw new Error(`eventSubscriptions.bicep: a subscriber without a literal functionName: ${item}`);
    return { functionName: name.text, includedEventTypes: types?.kind === 'block' ? stringsIn(types.text) : undefined };
  });
}

interface ContainerSpec {
  readonly name: string;
  readonly partitionKeyPath: string;
  readonly defaultTtl: number | undefined;
}

function containersOf(cosmos: string): ContainerSpec[] {
  return objectItems(variable(withoutComments(cosmos), 'containers')).map((item) => {
    const name = property(item, 'name');
    const key = property(item, 'partitionKeyPath');
    const settings = property(item, 'settings');
    const ttl = settings?.kind === 'block' ? property(settings.text, 'defaultTtl') : undefined;
    if (name?.kind !== 'string' || key?.kind !== 'string')
      throw new Error(`cosmos.bicep: a container without a literal name and partitionKeyPath: ${item}`);
    return { name: name.text, partitionKeyPath: key.text, defaultTtl: ttl === undefined ? undefined : Number(ttl.text) };
  });
}

// ---------------------------------------------------------------------------------------------------
// What the app says: its functions (registered through the devhost's functions-core stand-in, as the
// host would see them), host.json, the devhost's Event Grid filters, the containers it creates.

interface App {
  readonly registrations: readonly Registration[];
  readonly devhostSubscriptions: readonly Subscription[];
  readonly containers: readonly ContainerSpec[];
  /** The keys of shared/platform/config.ts's settings schema: every setting the app reads. */
  readonly appSettings: ReadonlySet<string>;
  /** %NAME% references in host.json and in the functions' bindings: the host resolves them as settings. */
  readonly settingReferences: ReadonlySet<string>;
  /** Connection names of the bindings, and the host's own storage. */
  readonly connections: ReadonlySet<string>;
}

/** The keys of `const settingsSchema = z.object({ … })` in shared/platform/config.ts. */
function configSchemaKeys(): Set<string> {
  const source = withoutComments(read('shared/platform/config.ts'));
  const match = /const\s+settingsSchema\s*=\s*z\.object\(/.exec(source);
  if (!match) throw new Error('shared/platform/config.ts: no settingsSchema = z.object({ … })');
  const schema = blockFrom(source, match.index + match[0].length);
  const keys = new Set<string>();
  let depth = 0;
  for (let i = 0; i < schema.length; i += 1) {
    const c = schema[i] ?? '';
    if (c === "'") {
      i = stringEnd(schema, i) - 1;
      continue;
    }
    if (c in CLOSERS) depth += 1;
    else if (c === '}' || c === ']' || c === ')') depth -= 1;
    else if (depth === 1 && /[\s{,]/.test(schema[i - 1] ?? ' ')) {
      const key = /^(\w+)\s*:/.exec(schema.slice(i));
      if (key?.[1] !== undefined) keys.add(key[1]);
    }
  }
  return keys;
}

async function containersTheAppCreates(): Promise<ContainerSpec[]> {
  const created: ContainerSpec[] = [];
  const database = {
    containers: {
      createIfNotExists: (definition: ContainerDefinition) => {
        created.push({
          name: definition.id ?? '',
          partitionKeyPath: definition.partitionKey?.paths.join(',') ?? '',
          defaultTtl: definition.defaultTtl,
        });
        return Promise.resolve({});
      },
    },
  };
  const client = { databases: { createIfNotExists: () => Promise.resolve({ database }) } };
  await ensureCosmosContainers(client as unknown as CosmosClient, 'visitplannr');
  return created;
}

async function loadApp(): Promise<App> {
  const sources = readdirSync(join(root, 'functions'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  for (const source of sources) await import(join(root, 'functions', source));
  const registrations = registeredFunctions();
  const references = new Set<string>();
  const connections = new Set<string>(['AzureWebJobsStorage']);
  const collect = (text: string) => {
    for (const match of text.matchAll(/%(\w+)%/g)) references.add(match[1] ?? '');
  };
  collect(read('host.json'));
  for (const { metadata } of registrations) {
    for (const binding of Object.values(metadata.bindings)) {
      collect(JSON.stringify(binding));
      if (typeof binding.connection === 'string') connections.add(binding.connection);
    }
  }
  return {
    registrations,
    devhostSubscriptions: loadSubscriptions(registrations, join(root, EVENT_GRID_CONFIG_FILE)),
    containers: await containersTheAppCreates(),
    appSettings: configSchemaKeys(),
    settingReferences: references,
    connections,
  };
}

// ---------------------------------------------------------------------------------------------------
// The checks: each returns what is wrong, [] when nothing is.

/** Read by the Functions host or an SDK rather than by shared/platform/config.ts, with why the template sets it. */
const HOST_SETTINGS: Readonly<Record<string, string>> = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'the host sends its telemetry to Application Insights',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'with Entra ID, the component having local auth off',
  AzureWebJobsDisableHomepage: "the app serves its own page at /, not the host's",
  AZURE_CLIENT_ID: "DefaultAzureCredential's choice of the user-assigned identity (Cosmos DB, Event Grid, queues)",
  MICROSOFT_PROVIDER_AUTHENTICATION_SECRET:
    'the Entra client secret App Service Authentication reads (authsettingsV2 clientSecretSettingName)',
};

/** Identity-based connection properties (learn.microsoft.com, "identity-based connections"). */
const CONNECTION_PROPERTIES = [
  'accountName',
  'accountEndpoint',
  'serviceUri',
  'blobServiceUri',
  'queueServiceUri',
  'tableServiceUri',
  'credential',
  'clientId',
];
const CONNECTION_TARGETS = ['accountName', 'accountEndpoint', 'serviceUri', 'blobServiceUri', 'queueServiceUri', 'tableServiceUri'];

/** App settings that Flex Consumption refuses or ignores ("Flex Consumption plan deprecations"). */
const REFUSED_ON_FLEX = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_WORKER_RUNTIME_VERSION',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
  'ENABLE_ORYX_BUILD',
];

function configProblems(environment: Record<string, string>): string[] {
  try {
    loadConfig(environment);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

function appSettingProblems(main: string, app: App): string[] {
  const problems: string[] = [];
  const settings = appSettingsOf(main);
  const names = settings.map(({ name }) => name);
  const set = new Set(names);
  const isFlex = /\bname:\s*'FC1'/.test(resources(withoutComments(main), 'Microsoft.Web/serverfarms')[0]?.body ?? '');
  const isConnectionSetting = (name: string) =>
    [...app.connections].some(
      (connection) => name === connection || CONNECTION_PROPERTIES.some((part) => name === `${connection}__${part}`),
    );

  for (const name of names.filter((name, index) => names.indexOf(name) !== index)) problems.push(`${name} is set twice`);
  for (const name of set) {
    if (isFlex && REFUSED_ON_FLEX.includes(name))
      problems.push(`${name} is refused or ignored on Flex Consumption (the runtime is functionAppConfig.runtime)`);
    else if (!app.appSettings.has(name) && !app.settingReferences.has(name) && !isConnectionSetting(name) && !(name in HOST_SETTINGS)) {
      problems.push(`${name} is read by neither the app (shared/platform/config.ts) nor the host`);
    }
  }

  // Everything the app requires, judged by the app itself.
  problems.push(
    ...configProblems(environmentOf(main)).map((problem) => `shared/platform/config.ts refuses the template's settings: ${problem}`),
  );

  // Everything the host requires: %SETTING% references, and each binding's connection.
  for (const reference of app.settingReferences)
    if (!set.has(reference)) problems.push(`${reference} is missing (host.json or a binding refers to %${reference}%)`);
  const userAssigned = /type:\s*'UserAssigned'/.test(path(functionAppOf(main).body, ['identity'])?.text ?? '');
  for (const connection of app.connections) {
    if (!set.has(connection) && !CONNECTION_TARGETS.some((part) => set.has(`${connection}__${part}`))) {
      problems.push(
        `the connection ${connection} is missing: set ${connection}__accountName/__accountEndpoint (identity) or ${connection}`,
      );
    }
    if (userAssigned && set.has(`${connection}__credential`) && !set.has(`${connection}__clientId`)) {
      problems.push(`${connection}__clientId is missing: the identity is user-assigned`);
    }
  }
  if (userAssigned && !set.has('AZURE_CLIENT_ID'))
    problems.push('AZURE_CLIENT_ID is missing: DefaultAzureCredential cannot pick a user-assigned identity without it');
  const value = (name: string) => settings.find((setting) => setting.name === name)?.value.text;
  if (value('AzureWebJobsDisableHomepage') !== 'true')
    problems.push('AzureWebJobsDisableHomepage must be true: the app serves its own page at /');
  const hub = environmentOf(main).DURABLE_TASK_HUB ?? '';
  if (!/^[A-Za-z][A-Za-z0-9]{2,44}$/.test(hub))
    problems.push(`DURABLE_TASK_HUB ${JSON.stringify(hub)} is not a task hub name (a letter, then 2-44 letters or digits)`);

  // A parameter's range must be the app's: its bounds and default accepted, one past either refused.
  const declared = params(main);
  const environment = environmentOf(main);
  for (const { name, value: settingValue } of settings) {
    const param = paramOf(settingValue);
    const declaration = param === undefined || !app.appSettings.has(name) ? undefined : declared.get(param);
    if (declaration?.minValue === undefined || declaration.maxValue === undefined) continue;
    const judge = (candidate: number) =>
      configProblems({ ...environment, [name]: String(candidate) }).filter((problem) => problem.startsWith(name));
    for (const candidate of [declaration.minValue, declaration.maxValue, declaration.defaultValue]) {
      if (typeof candidate === 'number' && judge(candidate).length > 0)
        problems.push(`${name}: the template allows ${candidate} (param ${param}), the app refuses it`);
    }
    for (const candidate of [declaration.minValue - 1, declaration.maxValue + 1]) {
      if (judge(candidate).length === 0)
        problems.push(
          `${name}: the app accepts ${candidate}, outside the template's ${declaration.minValue}-${declaration.maxValue} (param ${param})`,
        );
    }
  }
  return problems;
}

function runtimeProblems(main: string): string[] {
  const problems: string[] = [];
  const text = withoutComments(main);
  const plans = resources(text, 'Microsoft.Web/serverfarms');
  if (plans.length !== 1 || !/\bname:\s*'FC1'/.test(plans[0]?.body ?? '') || !/\btier:\s*'FlexConsumption'/.test(plans[0]?.body ?? ''))
    problems.push('the plan is not one Flex Consumption (FC1) plan');
  const site = functionAppOf(main).body;
  if (!/\bkind:\s*'functionapp,linux'/.test(site)) problems.push("the function app is not kind 'functionapp,linux'");
  const runtime = path(site, ['properties', 'functionAppConfig', 'runtime']);
  const name = runtime?.kind === 'block' ? property(runtime.text, 'name') : undefined;
  const version = runtime?.kind === 'block' ? property(runtime.text, 'version') : undefined;
  if (name?.kind !== 'string' || name.text !== 'node') problems.push(`the runtime is ${name?.text ?? 'not set'}, not node`);
  const param = version === undefined ? undefined : paramOf(version);
  const resolved = version?.kind === 'string' ? version.text : param === undefined ? undefined : params(main).get(param)?.defaultValue;
  if (resolved !== '22') problems.push(`the Node.js version is ${String(resolved)}, not 22`);
  return problems;
}

function subscriptionProblems(files: Template, app: App): string[] {
  const problems: string[] = [];
  const subscribers = subscribersOf(files.eventSubscriptions);
  const triggered = app.registrations
    .filter((registration) => triggerOf(registration).binding.type === 'eventGridTrigger')
    .map(({ metadata }) => metadata.name);
  const names = subscribers.map(({ functionName }) => functionName);
  for (const name of names.filter((name, index) => names.indexOf(name) !== index)) problems.push(`${name} has more than one subscription`);
  for (const name of names)
    if (!triggered.includes(name))
      problems.push(`a subscription points at ${name}, which is not an eventGrid-triggered function (they are: ${triggered.join(', ')})`);
  for (const name of triggered) if (!names.includes(name)) problems.push(`the eventGrid-triggered function ${name} has no subscription`);

  const retry = variable(withoutComments(files.eventSubscriptions), 'retryPolicy');
  for (const { functionName, filter, retryPolicy } of app.devhostSubscriptions) {
    const subscriber = subscribers.find((candidate) => candidate.functionName === functionName);
    if (!subscriber) continue;
    const local = [...(filter.includedEventTypes ?? [])].sort();
    const azure = [...(subscriber.includedEventTypes ?? [])].sort();
    if (JSON.stringify(local) !== JSON.stringify(azure))
      problems.push(`${functionName} gets ${JSON.stringify(azure)} in Azure, ${JSON.stringify(local)} locally (${EVENT_GRID_CONFIG_FILE})`);
    if (filter.subjectBeginsWith !== undefined || filter.subjectEndsWith !== undefined)
      problems.push(`${functionName} filters on the subject locally; the template does not`);
    for (const [key, localValue] of Object.entries(retryPolicy)) {
      const azureValue = property(retry, key)?.text;
      if (azureValue !== String(localValue))
        problems.push(`${functionName}: retryPolicy.${key} is ${String(azureValue)} in Azure, ${String(localValue)} locally`);
    }
  }

  const loops = resources(withoutComments(files.eventSubscriptions), 'Microsoft.EventGrid/topics/eventSubscriptions');
  const body = loops[0]?.body ?? '';
  if (loops.length !== 1) problems.push('eventSubscriptions.bicep should declare the subscriptions in one loop over `subscribers`');
  if (path(body, ['properties', 'destination', 'endpointType'])?.text !== 'AzureFunction')
    problems.push('the endpoint type is not AzureFunction');
  if (
    path(body, ['properties', 'destination', 'properties', 'resourceId'])?.text !== '${functionApp.id}/functions/${subscriber.functionName}'
  ) {
    problems.push("the endpoint is not '${functionApp.id}/functions/${subscriber.functionName}'");
  }
  if (path(body, ['properties', 'filter', 'includedEventTypes'])?.text !== 'subscriber.includedEventTypes')
    problems.push("the filter is not the subscriber's includedEventTypes");
  if (path(body, ['properties', 'eventDeliverySchema'])?.text !== 'CloudEventSchemaV1_0')
    problems.push('the delivery schema is not CloudEvents 1.0');
  if (path(body, ['properties', 'deadLetterWithResourceIdentity', 'deadLetterDestination', 'endpointType'])?.text !== 'StorageBlob')
    problems.push('the subscriptions have no dead-letter container');
  if (path(body, ['properties', 'retryPolicy'])?.text !== 'retryPolicy') problems.push('the subscriptions have no retry policy');

  const topic = resources(withoutComments(files.eventGrid), 'Microsoft.EventGrid/topics')[0]?.body ?? '';
  if (path(topic, ['properties', 'inputSchema'])?.text !== 'CloudEventSchemaV1_0')
    problems.push('the topic does not take CloudEvents 1.0, which the app publishes');
  const module = /module\s+\w+\s+'modules\/eventSubscriptions\.bicep'\s*=\s*if\s*\(\s*deploySubscriptions\s*\)/.test(
    withoutComments(files.main),
  );
  if (!module || params(files.main).get('deploySubscriptions')?.defaultValue !== false)
    problems.push('the subscriptions are not behind deploySubscriptions (default false): they need the code deployed first');
  return problems;
}

function containerProblems(cosmos: string, app: App): string[] {
  const problems: string[] = [];
  const inTemplate = containersOf(cosmos);
  for (const created of app.containers) {
    const declared = inTemplate.find(({ name }) => name === created.name);
    if (!declared) problems.push(`the app creates the container ${created.name}; the template does not`);
    else if (JSON.stringify(declared) !== JSON.stringify(created))
      problems.push(`${created.name} is ${JSON.stringify(declared)} in the template, ${JSON.stringify(created)} in the app`);
  }
  for (const { name } of inTemplate)
    if (!app.containers.some((created) => created.name === name)) problems.push(`the template creates ${name}, which the app does not use`);
  return problems;
}

/** The @secure() parameters. */
function secureParams(text: string): Set<string> {
  const found = new Set<string>();
  let secure = false;
  for (const line of withoutComments(text).split('\n')) {
    if (/^\s*@secure\(\s*\)\s*$/.test(line)) secure = true;
    const declaration = /^\s*param\s+(\w+)\s/.exec(line);
    if (declaration) {
      if (secure) found.add(declaration[1] ?? '');
      secure = false;
    } else if (line.trim() !== '' && !/^\s*@/.test(line)) secure = false;
  }
  return found;
}

/**
 * App Service Authentication ("Easy Auth", docs/deploy.md "Sign-in with Microsoft Entra ID"): one
 * authsettingsV2 on the function app, deployed only with an app registration (a client id parameter
 * whose default is empty), that lets anonymous requests through for the app to judge, signs in with
 * Entra ID v2.0 and reads its client secret from an app setting that holds a @secure() parameter.
 */
function authProblems(main: string): string[] {
  const problems: string[] = [];
  const text = withoutComments(main);
  const configs = resources(text, 'Microsoft.Web/sites/config').filter(({ body }) => property(body, 'name')?.text === 'authsettingsV2');
  if (configs.length !== 1) return [`main.bicep should declare one authsettingsV2, not ${configs.length}`];
  const { symbol, body } = configs[0]!;
  const at = (...keys: string[]) => path(body, keys)?.text;

  const condition = new RegExp(`resource\\s+${symbol}\\s+'[^']+'\\s*=\\s*if\\s*\\(\\s*!\\s*empty\\(\\s*(\\w+)\\s*\\)\\s*\\)`).exec(text);
  const clientIdParam = condition?.[1];
  const clientIdExpression = at('properties', 'identityProviders', 'azureActiveDirectory', 'registration', 'clientId');
  if (clientIdParam === undefined || clientIdExpression !== clientIdParam)
    problems.push('authsettingsV2 is not deployed only when its client id parameter is set (if (!empty(<that parameter>)))');
  else if (params(main).get(clientIdParam)?.defaultValue !== '')
    problems.push(`${clientIdParam} does not default to empty: a deployment without an app registration would need one`);
  if (property(body, 'parent')?.text !== functionAppOf(main).symbol) problems.push('authsettingsV2 is not on the function app');

  if (at('properties', 'platform', 'enabled') !== 'true') problems.push('platform.enabled is not true');
  if (at('properties', 'globalValidation', 'requireAuthentication') !== 'false')
    problems.push('globalValidation.requireAuthentication is not false: anonymous callers (parents, scripts with keys) would be refused');
  if (at('properties', 'globalValidation', 'unauthenticatedClientAction') !== 'AllowAnonymous')
    problems.push("globalValidation.unauthenticatedClientAction is not 'AllowAnonymous': the app decides what anonymous callers may do");
  if (at('properties', 'identityProviders', 'azureActiveDirectory', 'enabled') !== 'true')
    problems.push('Microsoft Entra ID is not enabled');
  const issuer = at('properties', 'identityProviders', 'azureActiveDirectory', 'registration', 'openIdIssuer') ?? '';
  if (!issuer.endsWith('/v2.0')) problems.push(`the issuer ${issuer} is not Entra ID's v2.0 endpoint`);
  const audiences = path(body, ['properties', 'identityProviders', 'azureActiveDirectory', 'validation', 'allowedAudiences']);
  if (clientIdParam !== undefined && !(audiences?.kind === 'block' && stringsIn(audiences.text).includes(`api://\${${clientIdParam}}`)))
    problems.push(`validation.allowedAudiences does not include api://\${${clientIdParam}}`);
  if (at('properties', 'login', 'tokenStore', 'enabled') !== 'true') problems.push('the token store is off (/.auth/me reads it)');
  if (at('properties', 'login', 'allowedExternalRedirectUrls')?.replace(/\s/g, '') !== '[]')
    problems.push('login.allowedExternalRedirectUrls is not empty');
  if (at('properties', 'httpSettings', 'requireHttps') !== 'true') problems.push('httpSettings.requireHttps is not true');
  const excluded = path(body, ['properties', 'globalValidation', 'excludedPaths']);
  for (const route of ['/api/keys/function', '/api/keys/admin'])
    if (!(excluded?.kind === 'block' && stringsIn(excluded.text).includes(route)))
      problems.push(`globalValidation.excludedPaths does not hold ${route}: the platform could answer the app's key check itself`);
  const allowedApps = path(body, [
    'properties',
    'identityProviders',
    'azureActiveDirectory',
    'validation',
    'defaultAuthorizationPolicy',
    'allowedApplications',
  ]);
  if (clientIdParam !== undefined && !(allowedApps?.kind === 'block' && allowedApps.text.includes(clientIdParam)))
    problems.push('validation.defaultAuthorizationPolicy.allowedApplications does not limit tokens to this app registration');

  const secretSetting = at('properties', 'identityProviders', 'azureActiveDirectory', 'registration', 'clientSecretSettingName');
  const setting = appSettingsOf(main).find(({ name }) => name === secretSetting);
  const secretParam = setting === undefined ? undefined : paramOf(setting.value);
  if (setting === undefined) problems.push(`the client secret setting ${String(secretSetting)} is not an app setting`);
  else if (secretParam === undefined || !secureParams(main).has(secretParam))
    problems.push(`${setting.name} does not come from a @secure() parameter`);
  return problems;
}

/** No output carries a @secure() parameter, the client secret setting or a list*() result (keys). */
function outputProblems(main: string): string[] {
  const problems: string[] = [];
  const secrets = [...secureParams(main), 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET'];
  for (const [, name = '', expression = ''] of withoutComments(main).matchAll(/^output\s+(\w+)\s+\w+\s*=\s*(.+)$/gm)) {
    const leaked = secrets.find((secret) => new RegExp(`\\b${secret}\\b`).test(expression));
    if (leaked !== undefined) problems.push(`output ${name} reveals ${leaked}`);
    if (/\blist\w*\(/.test(expression)) problems.push(`output ${name} returns a list*() result`);
  }
  return problems;
}

/** Identity and keys: what the app's identity may do, and that no resource takes a key. */
function accessProblems(files: Template, app: App): string[] {
  const problems: string[] = [];
  const expect = (file: keyof Template, pattern: RegExp, what: string) => {
    if (!pattern.test(withoutComments(files[file]))) problems.push(`${file}: ${what}`);
  };
  expect('storage', /allowSharedKeyAccess:\s*false/, 'shared key access is not off');
  expect('storage', /'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'/, 'no Storage Blob Data Owner for the identity');
  expect('storage', /'974c5e8b-45b9-4653-ba55-5f855dd0fb88'/, 'no Storage Queue Data Contributor for the identity');
  expect('storage', /'0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'/, 'no Storage Table Data Contributor for the identity');
  expect('cosmos', /disableLocalAuth:\s*true/, 'Cosmos DB keys are not disabled');
  expect('cosmos', /'00000000-0000-0000-0000-000000000002'/, 'no Cosmos DB Built-in Data Contributor for the identity');
  expect('eventGrid', /disableLocalAuth:\s*true/, 'topic keys are not disabled');
  expect('eventGrid', /'d5a91429-5739-47e2-a06b-3470a27159e7'/, 'no EventGrid Data Sender for the identity');
  const storageModule = /module\s+\w+\s+'modules\/storage\.bicep'/.exec(withoutComments(files.main));
  const queues = storageModule ? property(blockFrom(withoutComments(files.main), storageModule.index), 'params') : undefined;
  const queueNames = queues?.kind === 'block' ? property(queues.text, 'queueNames') : undefined;
  const declaredQueues = queueNames?.kind === 'block' ? stringsIn(queueNames.text) : [];
  const triggerQueues = app.registrations
    .map((registration) => triggerOf(registration).binding)
    .filter((binding) => binding.type === 'queueTrigger')
    .map((binding) => String(binding.queueName));
  for (const queue of new Set([FORECAST_REFRESH_QUEUE, ...triggerQueues]))
    if (!declaredQueues.includes(queue)) problems.push(`main.bicep: the queue ${queue} is not created`);
  return problems;
}

// ---------------------------------------------------------------------------------------------------

let app: App;

beforeAll(async () => {
  app = await loadApp();
});

describe('the Bicep template (infra/) against the app', () => {
  it('sets only settings the app or the host reads, and every one they need, with values the app accepts', () => {
    const names = appSettingsOf(template.main).map(({ name }) => name);
    expect(names).toEqual(
      expect.arrayContaining([
        'AzureWebJobsStorage__accountName',
        'COSMOS__accountEndpoint',
        'COSMOS_CONNECTION__accountEndpoint',
        'COSMOS_DATABASE',
        'EVENTGRID_TOPIC_ENDPOINT',
        'DURABLE_TASK_HUB',
      ]),
    );
    expect(names).not.toContain('EVENTGRID_TOPIC_KEY');
    expect(names).not.toContain('COSMOS_CONNECTION');
    expect(appSettingProblems(template.main, app)).toEqual([]);
  });

  it('runs Node 22 on Flex Consumption by default', () => {
    expect(runtimeProblems(template.main)).toEqual([]);
  });

  it('subscribes every eventGrid-triggered function once, with the devhost filter, after the code', () => {
    expect(subscribersOf(template.eventSubscriptions).length).toBeGreaterThan(0);
    expect(subscriptionProblems(template, app)).toEqual([]);
  });

  it("creates the containers the app creates, with the app's partition keys and TTL", () => {
    expect(app.containers.map(({ name }) => name).sort()).toEqual(['deadletters', 'events', 'leases', 'views']);
    expect(containerProblems(template.cosmos, app)).toEqual([]);
  });

  it('gives the identity its roles, takes no keys and creates the queue the app uses', () => {
    expect(accessProblems(template, app)).toEqual([]);
  });

  it('signs people in with Entra ID only given an app registration, lets anonymous requests through and outputs no secret', () => {
    expect(authProblems(template.main)).toEqual([]);
    expect(outputProblems(template.main)).toEqual([]);
    expect(secureParams(template.main)).toEqual(new Set(['metOfficeApiKey', 'entraClientSecret']));
  });

  it('main.bicepparam sets only parameters main.bicep declares', () => {
    expect(template.bicepparam).toMatch(/^using 'main\.bicep'$/m);
    const declared = params(template.main);
    const set = [...withoutComments(template.bicepparam).matchAll(/^param\s+(\w+)\s*=/gm)].map((match) => match[1] ?? '');
    expect(set.length).toBeGreaterThan(0);
    expect(set.filter((name) => !declared.has(name))).toEqual([]);
  });
});

describe('the checks fail on a broken template', () => {
  const breaking = (file: keyof Template, from: string, to: string): Template => {
    if (!template[file].includes(from)) throw new Error(`${file} has no ${from}`);
    return { ...template, [file]: template[file].replace(from, to) };
  };

  it('a setting the app requires is missing', () => {
    const broken = breaking('main', "{ name: 'COSMOS_DATABASE', value: cosmosDatabaseName }", '');
    expect(appSettingProblems(broken.main, app)).toContain(
      "shared/platform/config.ts refuses the template's settings: COSMOS_DATABASE is missing",
    );
  });

  it('a setting nobody reads (a typo)', () => {
    const broken = breaking('main', "name: 'FORECAST_BATCH_SIZE'", "name: 'FORECAST_BATCHSIZE'");
    expect(appSettingProblems(broken.main, app)).toContain(
      'FORECAST_BATCHSIZE is read by neither the app (shared/platform/config.ts) nor the host',
    );
  });

  it("the change-feed triggers' identity connection is missing", () => {
    const broken = breaking('main', "{ name: 'COSMOS_CONNECTION__accountEndpoint', value: cosmos.outputs.endpoint }", '');
    expect(appSettingProblems(broken.main, app)).toEqual([expect.stringContaining('the connection COSMOS_CONNECTION is missing')]);
  });

  it('a commented-out setting does not count', () => {
    const broken = breaking('main', "{ name: 'DURABLE_TASK_HUB'", "// { name: 'DURABLE_TASK_HUB'");
    expect(appSettingProblems(broken.main, app)).toEqual(
      expect.arrayContaining(['DURABLE_TASK_HUB is missing (host.json or a binding refers to %DURABLE_TASK_HUB%)']),
    );
  });

  it('FUNCTIONS_WORKER_RUNTIME on Flex', () => {
    const broken = breaking(
      'main',
      "{ name: 'DURABLE_TASK_HUB'",
      "{ name: 'FUNCTIONS_WORKER_RUNTIME', value: 'node' }\n        { name: 'DURABLE_TASK_HUB'",
    );
    expect(appSettingProblems(broken.main, app)).toEqual([
      'FUNCTIONS_WORKER_RUNTIME is refused or ignored on Flex Consumption (the runtime is functionAppConfig.runtime)',
    ]);
  });

  it("a parameter's range wider than the app's", () => {
    const broken = breaking(
      'main',
      '@minValue(5)\n@maxValue(1440)\nparam forecastRefreshMinutes',
      '@minValue(1)\n@maxValue(1440)\nparam forecastRefreshMinutes',
    );
    expect(appSettingProblems(broken.main, app)).toEqual([
      'FORECAST_REFRESH_MINUTES: the template allows 1 (param forecastRefreshMinutes), the app refuses it',
    ]);
  });

  it('another Node.js version, or another plan', () => {
    expect(runtimeProblems(breaking('main', "param nodeVersion string = '22'", "param nodeVersion string = '20'").main)).toEqual([
      'the Node.js version is 20, not 22',
    ]);
    expect(
      runtimeProblems(breaking('main', "sku: { name: 'FC1', tier: 'FlexConsumption' }", "sku: { name: 'Y1', tier: 'Dynamic' }").main),
    ).toEqual(['the plan is not one Flex Consumption (FC1) plan']);
  });

  it('a subscription to a function that does not exist, and a function without one', () => {
    const broken = breaking('eventSubscriptions', "functionName: 'activateRegion'", "functionName: 'activateRegions'");
    expect(subscriptionProblems(broken, app)).toEqual([
      expect.stringContaining('a subscription points at activateRegions'),
      'the eventGrid-triggered function activateRegion has no subscription',
    ]);
  });

  it('a filter that differs from the devhost', () => {
    const broken = breaking(
      'eventSubscriptions',
      "'VisitPlannr.PlaceProposed'",
      "'VisitPlannr.PlaceProposed', 'VisitPlannr.PlaceApproved'",
    );
    expect(subscriptionProblems(broken, app)).toEqual([
      expect.stringContaining('validatePlaceLocation gets ["VisitPlannr.PlaceApproved","VisitPlannr.PlaceProposed"] in Azure'),
    ]);
  });

  it('subscriptions deployed with the infrastructure, before the code', () => {
    const broken = breaking(
      'main',
      "'modules/eventSubscriptions.bicep' = if (deploySubscriptions)",
      "'modules/eventSubscriptions.bicep' =",
    );
    expect(subscriptionProblems(broken, app)).toEqual([expect.stringContaining('not behind deploySubscriptions')]);
  });

  it('a partition key or the TTL that differs from the app', () => {
    expect(
      containerProblems(
        breaking('cosmos', "{ name: 'events', partitionKeyPath: '/streamId'", "{ name: 'events', partitionKeyPath: '/id'").cosmos,
        app,
      ),
    ).toEqual([expect.stringContaining('events is')]);
    expect(containerProblems(breaking('cosmos', 'settings: { defaultTtl: -1 }', 'settings: {}').cosmos, app)).toEqual([
      expect.stringContaining('events is'),
    ]);
    expect(
      containerProblems(breaking('cosmos', "  { name: 'deadletters', partitionKeyPath: '/streamId', settings: {} }\n", '').cosmos, app),
    ).toEqual(['the app creates the container deadletters; the template does not']);
  });

  it('keys left on', () => {
    expect(accessProblems(breaking('cosmos', 'disableLocalAuth: true', 'disableLocalAuth: false'), app)).toEqual([
      'cosmos: Cosmos DB keys are not disabled',
    ]);
  });

  it('sign-in that refuses anonymous callers, or is always on, or takes its secret in the clear', () => {
    expect(
      authProblems(
        breaking('main', "unauthenticatedClientAction: 'AllowAnonymous'", "unauthenticatedClientAction: 'RedirectToLoginPage'").main,
      ),
    ).toEqual(["globalValidation.unauthenticatedClientAction is not 'AllowAnonymous': the app decides what anonymous callers may do"]);
    expect(authProblems(breaking('main', 'requireAuthentication: false', 'requireAuthentication: true').main)).toEqual([
      expect.stringContaining('requireAuthentication is not false'),
    ]);
    expect(
      authProblems(
        breaking(
          'main',
          "'Microsoft.Web/sites/config@2024-04-01' = if (!empty(entraClientId))",
          "'Microsoft.Web/sites/config@2024-04-01' =",
        ).main,
      ),
    ).toEqual([expect.stringContaining('not deployed only when its client id parameter is set')]);
    expect(authProblems(breaking('main', '@secure()\nparam entraClientSecret', 'param entraClientSecret').main)).toEqual([
      'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET does not come from a @secure() parameter',
    ]);
  });

  it('a secret in an output', () => {
    const broken = breaking(
      'main',
      'output signInConfigured bool = !empty(entraClientId)',
      'output signInSecret string = entraClientSecret',
    );
    expect(outputProblems(broken.main)).toEqual(['output signInSecret reveals entraClientSecret']);
  });
});
