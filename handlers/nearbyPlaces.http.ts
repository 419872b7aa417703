import { appServices } from '../shared/platform/composition/appServices';
import { findNearby, type NearbyAnswer, type QueryDeps } from '../shared/places/application/placeQueries';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { correlationIdOf } from '../shared/platform/http/request';
import { errorSummary, withCorrelation, type CorrelatedLog } from '../shared/platform/logging';
import { parseNearbyQuery } from '../shared/places/http/placeRequests';
import { searchedRegionsOf, type SearchDemandRecorder } from '../shared/regions/application/searchDemandRecorder';

/**
 * GET /api/places/nearby?lat&lon&radiusKm&at&kind&age&free&open&sort&limit: approved places by distance, with
 * weather. The region of the first place it answers with is noted as searched (`demand`), which
 * steers the forecast refresh; noting never fails or slows the search.
 */
export function nearbyPlacesHandler(deps: QueryDeps, demand?: Pick<SearchDemandRecorder, 'searched'>): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const query = parseNearbyQuery(request.query, deps.clock());
    const answer = await findNearby(deps, query);
    if (demand) noteSearched(demand, answer, withCorrelation(context, correlationIdOf(request, context.invocationId)));
    return { status: 200, headers: { 'cache-control': 'public, max-age=60' }, jsonBody: answer };
  });
}

function noteSearched(demand: Pick<SearchDemandRecorder, 'searched'>, answer: NearbyAnswer, log: CorrelatedLog): void {
  try {
    demand.searched(searchedRegionsOf(answer.results), log);
  } catch (error) {
    // The recorder is built not to throw; should it ever, the parent still gets the answer.
    log.warn('SearchDemandNotRecorded', { error: errorSummary(error) });
  }
}

export const nearbyPlacesFunction: HttpHandler = (request, context) => {
  const services = appServices();
  return nearbyPlacesHandler({ ...services, views: services.placeSearch }, services.searchDemand)(request, context);
};
