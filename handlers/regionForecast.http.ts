import { appServices } from '../shared/platform/composition/appServices';
import { type QueryDeps } from '../shared/places/application/placeQueries';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { HttpProblem } from '../shared/platform/http/problem';
import { isRegion } from '../shared/regions/domain/region';
import { regionForecast } from '../shared/regions/application/regionQueries';

/** GET /api/regions/{region}/forecast: the hourly forecast of a region (a geohash). */
export function regionForecastHandler(deps: QueryDeps): HttpHandler {
  return withProblemDetails(async (request) => {
    const region = (request.params.region ?? '').toLowerCase();
    if (!isRegion(region)) throw new HttpProblem(404, `There is no region ${JSON.stringify(region.slice(0, 20))}.`);
    return { status: 200, headers: { 'cache-control': 'public, max-age=300' }, jsonBody: await regionForecast(deps, region) };
  });
}

export const regionForecastFunction: HttpHandler = (request, context) => regionForecastHandler(appServices())(request, context);
