import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { lint, type LintReport } from '../support/eslintRunner';

/*
 * The dependency rules of shared/ (eslint.config.mjs, architectureBoundaries): each deliberately bad
 * import below, linted as if it were a file at that path, must be refused by no-restricted-imports,
 * and each good one accepted; and the real tree passes. Snippet paths are named __linttest*.ts and
 * exist nowhere on disk.
 */

interface Case {
  readonly name: string;
  readonly filePath: string;
  readonly code: string;
}

const refused: readonly Case[] = [
  {
    name: "a place's domain importing a region's domain",
    filePath: 'shared/places/domain/__linttest.ts',
    code: "import { toRegionStreamId } from '../../regions/domain/region';\nexport const id = toRegionStreamId;\n",
  },
  {
    name: "a region's projection importing the places' projection",
    filePath: 'shared/regions/projection/__linttest.ts',
    code: "import { placeViewKey } from '../../places/projection/placeDocuments';\nexport const key = placeViewKey;\n",
  },
  {
    name: 'a domain importing its own use cases',
    filePath: 'shared/places/domain/__linttest.ts',
    code: "import { proposePlace } from '../application/placeCommands';\nexport const propose = proposePlace;\n",
  },
  {
    name: 'a domain importing the platform',
    filePath: 'shared/regions/domain/__linttest.ts',
    code: "import { logLine } from '../../platform/logging';\nexport const log = logLine;\n",
  },
  {
    name: 'a domain importing an SDK',
    filePath: 'shared/places/domain/__linttest.ts',
    code: "import { CosmosClient } from '@azure/cosmos';\nexport const client = CosmosClient;\n",
  },
  {
    name: 'the kernel importing a feature',
    filePath: 'shared/kernel/__linttest.ts',
    code: "import { PLACE_KINDS } from '../places/domain/placeDetails';\nexport const kinds = PLACE_KINDS;\n",
  },
  {
    name: 'a use case importing an adapter of its own feature',
    filePath: 'shared/places/application/__linttest.ts',
    code: "import { HttpGeocoder } from '../adapters/httpGeocoder';\nexport const geocoder = HttpGeocoder;\n",
  },
  {
    name: 'a use case importing a platform adapter',
    filePath: 'shared/regions/application/__linttest.ts',
    code: "import { CosmosEventStore } from '../../platform/eventSourcing/adapters/cosmosEventStore';\nexport const store = CosmosEventStore;\n",
  },
  {
    name: "a use case importing another feature's use cases",
    filePath: 'shared/regions/application/__linttest.ts',
    code: "import { validatePlaceLocation } from '../../places/application/validatePlaceLocation';\nexport const validate = validatePlaceLocation;\n",
  },
  {
    name: 'a use case importing an SDK',
    filePath: 'shared/places/application/__linttest.ts',
    code: "import axios from 'axios';\nexport const client = axios;\n",
  },
  {
    name: 'a use case importing the composition root',
    filePath: 'shared/places/application/__linttest.ts',
    code: "import { appServices } from '../../platform/composition/appServices';\nexport const services = appServices;\n",
  },
  {
    name: "a platform port importing a feature's use cases",
    filePath: 'shared/platform/views/__linttest.ts',
    code: "import { nearbyPlaces } from '../../places/application/placeQueries';\nexport const nearby = nearbyPlaces;\n",
  },
  {
    name: 'a platform port importing an adapter',
    filePath: 'shared/platform/publishing/__linttest.ts',
    code: "import { EventGridEventPublisher } from './adapters/eventGridPublisher';\nexport const publisher = EventGridEventPublisher;\n",
  },
  {
    name: 'shared/ importing the devhost',
    filePath: 'shared/platform/adapters/__linttest.ts',
    code: "import { startDevhost } from 'functions-devhost/devhost';\nexport const start = startDevhost;\n",
  },
];

const accepted: readonly Case[] = [
  {
    name: 'a domain importing the kernel and its own domain',
    filePath: 'shared/places/domain/__linttest.ts',
    code: "import type { Geolocation } from '../../kernel/geolocation';\nimport { PLACE_KINDS } from './placeDetails';\nexport const kinds: readonly string[] = PLACE_KINDS;\nexport type Where = Geolocation;\n",
  },
  {
    name: 'a use case importing its ports, its domain and platform ports',
    filePath: 'shared/places/application/__linttest.ts',
    code: "import type { EventStore } from '../../platform/eventSourcing/eventStore';\nimport type { Geocoder } from './geocoder';\nimport { toPlaceStreamId } from '../domain/place';\nexport type Deps = { store: EventStore; geocoder: Geocoder };\nexport const id = toPlaceStreamId;\n",
  },
  {
    name: 'an adapter importing the port it adapts',
    filePath: 'shared/places/adapters/__linttest.ts',
    code: "import type { Geocoder } from '../application/geocoder';\nexport type Adapted = Geocoder;\n",
  },
];

const restrictedImports = (report: LintReport, index: number) =>
  (report.snippets[index] ?? []).filter((message) => message.ruleId === 'no-restricted-imports');

/**
 * One lint run for a set of rules: each refused snippet must get a no-restricted-imports message,
 * each accepted one none (and no parsing error, which would hide every rule), and the real folders
 * none at all.
 */
function describeImportRules(
  title: string,
  cases: { refused: readonly Case[]; accepted: readonly Case[] },
  tree: { folders: readonly string[]; snippetGlobs: readonly string[]; atLeastFiles: number },
): void {
  describe(title, () => {
    let report: LintReport;
    beforeAll(async () => {
      report = await lint(
        [...cases.refused, ...cases.accepted].map(({ code, filePath }) => ({ code, filePath })),
        tree.folders,
        tree.snippetGlobs,
      );
    }, 120_000);

    it.each(cases.refused.map((c, index) => [c.name, index] as const))('refuses %s', (_name, index) => {
      expect(restrictedImports(report, index)).not.toEqual([]);
    });

    it.each(cases.accepted.map((c, index) => [c.name, cases.refused.length + index] as const))('accepts %s', (_name, index) => {
      expect((report.snippets[index] ?? []).filter((message) => message.ruleId === null)).toEqual([]);
      expect(restrictedImports(report, index)).toEqual([]);
    });

    it(`the real files in ${tree.folders.map((folder) => `${folder}/`).join(' and ')} keep them`, () => {
      const broken = report.files.filter((file) => file.messages.some((message) => message.ruleId === 'no-restricted-imports'));
      expect(broken.map((file) => `${file.filePath}: ${file.messages.map((m) => m.message).join('; ')}`)).toEqual([]);
      expect(report.files.length).toBeGreaterThan(tree.atLeastFiles);
    });
  });
}

describeImportRules(
  'the dependency rules of shared/ (lint)',
  { refused, accepted },
  { folders: ['shared'], snippetGlobs: ['shared/*/__linttest*.ts', 'shared/*/*/__linttest*.ts'], atLeastFiles: 60 },
);

/*
 * The devhost (its own package, packages/devhost) runs any Functions app and knows nothing of this
 * one; the app runs under any host and knows nothing of the devhost. local/ (the app's stand-ins and
 * its set-up hook, typed by the devhost's public AppSetup) sits between them.
 */
const separated: readonly Case[] = [
  {
    name: 'the devhost importing the app',
    filePath: 'packages/devhost/src/__linttest.ts',
    code: "import { CONTAINERS } from '../../../shared/platform/adapters/cosmosClient';\nexport const containers = CONTAINERS;\n",
  },
  {
    name: "the devhost importing the app's stand-ins",
    filePath: 'packages/devhost/src/cosmos/__linttest.ts',
    code: "import { startLocalOpenMeteo } from '../../../../local/weather/localOpenMeteo';\nexport const start = startLocalOpenMeteo;\n",
  },
  {
    name: 'a function importing the devhost package',
    filePath: 'functions/__linttest.ts',
    code: "import { HttpThrottle } from 'functions-devhost/http/httpThrottle';\nexport const throttle = HttpThrottle;\n",
  },
  {
    name: 'a function importing the stand-ins',
    filePath: 'functions/__linttest.ts',
    code: "import { seededRandom } from '../local/seededRandom';\nexport const random = seededRandom;\n",
  },
  {
    name: 'shared/ importing the devhost package',
    filePath: 'shared/platform/adapters/__linttest.ts',
    code: "import { startDevhost } from 'functions-devhost';\nexport const start = startDevhost;\n",
  },
  {
    name: 'shared/ importing the stand-ins',
    filePath: 'shared/platform/adapters/__linttest.ts',
    code: "import { startLocalGeocoders } from '../../../local/geocoding/localGeocoders';\nexport const start = startLocalGeocoders;\n",
  },
];

const joined: readonly Case[] = [
  {
    name: 'the devhost importing its own modules',
    filePath: 'packages/devhost/src/__linttest.ts',
    code: "import { withLocalConnections } from './localConnections';\nexport const resolve = withLocalConnections;\n",
  },
  {
    name: "the app's set-up hook importing the devhost's hook type and the app",
    filePath: 'local/__linttest.ts',
    code: "import type { AppSetup } from 'functions-devhost';\nimport { CONTAINERS } from '../shared/platform/adapters/cosmosClient';\nexport type Setup = AppSetup;\nexport const containers = CONTAINERS;\n",
  },
];

describeImportRules(
  'the devhost and the app apart (lint)',
  { refused: separated, accepted: joined },
  {
    folders: ['packages/devhost/src', 'functions'],
    snippetGlobs: [
      'packages/devhost/src/__linttest*.ts',
      'packages/devhost/src/*/__linttest*.ts',
      'functions/__linttest*.ts',
      'local/__linttest*.ts',
      'shared/*/*/__linttest*.ts',
    ],
    atLeastFiles: 40,
  },
);

/** Folder → the folders its files import (relative imports inside shared/). */
function folderGraph(root: string): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const walk = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(folder, entry.name)) : entry.name.endsWith('.ts') ? [join(folder, entry.name)] : [],
    );
  for (const file of walk(root)) {
    const from = relative(root, dirname(file));
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const to = relative(root, dirname(resolve(dirname(file), `${specifier ?? ''}.ts`)));
      if (to !== from && !to.startsWith('..')) graph.set(from, (graph.get(from) ?? new Set()).add(to));
    }
  }
  return graph;
}

/** Every cycle reachable in the graph, as a path that starts and ends at the same folder. */
function loops(graph: Map<string, Set<string>>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const visit = (node: string, path: string[]) => {
    if (path.includes(node)) {
      found.push([...path.slice(path.indexOf(node)), node]);
      return;
    }
    if (done.has(node)) return;
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    done.add(node);
  };
  for (const node of graph.keys()) visit(node, []);
  return found;
}

describe('folders of shared/', () => {
  it('import one another without a loop', () => {
    const graph = folderGraph(join(__dirname, '..', '..', 'shared'));
    expect(graph.size).toBeGreaterThan(15);
    expect(loops(graph)).toEqual([]);
  });

  it('the loop check finds a loop when there is one', () => {
    const graph = new Map([
      ['places/application', new Set(['platform/views'])],
      ['platform/views', new Set(['places/application'])],
    ]);
    expect(loops(graph)).toContainEqual(['places/application', 'platform/views', 'places/application']);
  });
});
