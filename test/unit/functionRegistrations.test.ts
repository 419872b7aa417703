import { AppTerminateContext } from '@azure/functions';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { minimatch } from 'minimatch';
import { registeredFunctions, registeredHooks } from 'functions-devhost/functionsCore';
import hostJson from '../../host.json';
import packageJson from '../../package.json';

const root = join(__dirname, '..', '..');
const functionSources = readdirSync(join(root, 'functions'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));

describe('what the Functions host will find', () => {
  it('package.json main matches the compiled file of every function module, and nothing else', () => {
    expect(functionSources.length).toBeGreaterThan(0);
    for (const source of functionSources) {
      const compiled = `dist/functions/${source.replace(/\.ts$/, '.js').split('\\').join('/')}`;
      expect({ compiled, matched: minimatch(compiled, packageJson.main) }).toEqual({ compiled, matched: true });
    }
    expect(minimatch('dist/shared/platform/composition/appServices.js', packageJson.main)).toBe(false);
    expect(minimatch('packages/devhost/dist/functionsCore.js', packageJson.main)).toBe(false);
  });

  it('registers every function with its route, methods and auth level', async () => {
    for (const source of functionSources) await import(join(root, 'functions', source));
    const http = Object.fromEntries(
      registeredFunctions().map(({ metadata }) => {
        const trigger = Object.values(metadata.bindings).find((binding) => binding.direction === 'in' && binding.type.endsWith('Trigger'));
        return [metadata.name, { type: trigger?.type, route: trigger?.route, methods: trigger?.methods, authLevel: trigger?.authLevel }];
      }),
    );
    expect(http).toEqual({
      proposePlace: { type: 'httpTrigger', route: 'api/places', methods: ['POST'], authLevel: 'anonymous' },
      getPlace: { type: 'httpTrigger', route: 'api/places/{id}', methods: ['GET'], authLevel: 'anonymous' },
      getManagedPlace: { type: 'httpTrigger', route: 'api/manage/places/{id}', methods: ['GET'], authLevel: 'anonymous' },
      nearbyPlaces: { type: 'httpTrigger', route: 'api/places/nearby', methods: ['GET'], authLevel: 'anonymous' },
      newestPlaces: { type: 'httpTrigger', route: 'api/places/newest', methods: ['GET'], authLevel: 'anonymous' },
      regionForecast: { type: 'httpTrigger', route: 'api/regions/{region}/forecast', methods: ['GET'], authLevel: 'anonymous' },
      projectEvents: { type: 'cosmosDBTrigger', route: undefined, methods: undefined, authLevel: undefined },
      publishEvents: { type: 'cosmosDBTrigger', route: undefined, methods: undefined, authLevel: undefined },
      validatePlaceLocation: { type: 'eventGridTrigger', route: undefined, methods: undefined, authLevel: undefined },
      activateRegion: { type: 'eventGridTrigger', route: undefined, methods: undefined, authLevel: undefined },
      rebuildViews: { type: 'httpTrigger', route: 'api/ops/rebuild-views', methods: ['POST'], authLevel: 'admin' },
      updatePlaceDetails: { type: 'httpTrigger', route: 'api/places/{id}', methods: ['PATCH'], authLevel: 'anonymous' },
      approvePlace: { type: 'httpTrigger', route: 'api/places/{id}/approve', methods: ['POST'], authLevel: 'anonymous' },
      rejectPlace: { type: 'httpTrigger', route: 'api/places/{id}/reject', methods: ['POST'], authLevel: 'anonymous' },
      withdrawPlace: { type: 'httpTrigger', route: 'api/places/{id}/withdraw', methods: ['POST'], authLevel: 'anonymous' },
      health: { type: 'httpTrigger', route: 'api/health', methods: ['GET'], authLevel: 'anonymous' },
      forecastRefresh: { type: 'orchestrationTrigger', route: undefined, methods: undefined, authLevel: undefined },
      planForecastRefresh: { type: 'activityTrigger', route: undefined, methods: undefined, authLevel: undefined },
      refreshForecastBatch: { type: 'activityTrigger', route: undefined, methods: undefined, authLevel: undefined },
      ensureForecastRefresh: { type: 'timerTrigger', route: undefined, methods: undefined, authLevel: undefined },
      forecastRefreshStatus: { type: 'httpTrigger', route: 'api/ops/forecast-refresh', methods: ['GET'], authLevel: 'admin' },
      fetchRegionForecastNow: { type: 'queueTrigger', route: undefined, methods: undefined, authLevel: undefined },
      geocode: { type: 'httpTrigger', route: 'api/geocode', methods: ['GET'], authLevel: 'anonymous' },
      bestTimes: { type: 'httpTrigger', route: 'api/places/{id}/best-times', methods: ['GET'], authLevel: 'anonymous' },
      openingHoursWeek: { type: 'httpTrigger', route: 'api/opening-hours/week', methods: ['GET'], authLevel: 'anonymous' },
      listManagedPlaces: { type: 'httpTrigger', route: 'api/manage/places', methods: ['GET'], authLevel: 'anonymous' },
      // People sign in (the app decides what they may do); machines' keys are checked by the host through these two.
      me: { type: 'httpTrigger', route: 'api/me', methods: ['GET'], authLevel: 'anonymous' },
      requestEditorAccess: { type: 'httpTrigger', route: 'api/editor-access', methods: ['POST'], authLevel: 'anonymous' },
      listEditors: { type: 'httpTrigger', route: 'api/manage/editors', methods: ['GET'], authLevel: 'anonymous' },
      approveEditor: { type: 'httpTrigger', route: 'api/editors/{userId}/approve', methods: ['POST'], authLevel: 'anonymous' },
      suspendEditor: { type: 'httpTrigger', route: 'api/editors/{userId}/suspend', methods: ['POST'], authLevel: 'anonymous' },
      approveRevision: {
        type: 'httpTrigger',
        route: 'api/places/{id}/revisions/{revision}/approve',
        methods: ['POST'],
        authLevel: 'anonymous',
      },
      rejectRevision: {
        type: 'httpTrigger',
        route: 'api/places/{id}/revisions/{revision}/reject',
        methods: ['POST'],
        authLevel: 'anonymous',
      },
      checkFunctionKey: { type: 'httpTrigger', route: 'api/keys/function', methods: ['GET'], authLevel: 'function' },
      checkMasterKey: { type: 'httpTrigger', route: 'api/keys/admin', methods: ['GET'], authLevel: 'admin' },
      openApi: { type: 'httpTrigger', route: 'api/openapi.json', methods: ['GET'], authLevel: 'anonymous' },
      webPage: { type: 'httpTrigger', route: '{page?}', methods: ['GET'], authLevel: 'anonymous' },
      webAsset: { type: 'httpTrigger', route: 'assets/{*file}', methods: ['GET'], authLevel: 'anonymous' },
    });
    expect(registeredHooks('appStart')).toHaveLength(1);
    // Buffered search counts are written before the host stops the process; without services built, there is nothing to write.
    expect(registeredHooks('appTerminate')).toHaveLength(1);
    await expect(Promise.resolve(registeredHooks('appTerminate')[0]?.(new AppTerminateContext()))).resolves.toBeUndefined();
  });

  it('serves the site at the root (routePrefix ""), so every API route names its api/ itself', async () => {
    for (const source of functionSources) await import(join(root, 'functions', source));
    expect(hostJson.extensions.http.routePrefix).toBe('');
    const routes = registeredFunctions().flatMap(({ metadata }) =>
      Object.values(metadata.bindings)
        .filter((binding) => binding.type === 'httpTrigger')
        .map((binding) => String(binding.route)),
    );
    expect(routes.filter((route) => !route.startsWith('api/')).sort()).toEqual(['assets/{*file}', '{page?}']);
  });
});
