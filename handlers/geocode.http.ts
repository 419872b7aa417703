import { appServices } from '../shared/platform/composition/appServices';
import { locateForParents, parseGeocodeQuery, type GeocodeQueryDeps } from '../shared/places/application/geocodeQuery';
import { GeocoderUnavailableError } from '../shared/places/application/geocoder';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { HttpProblem } from '../shared/platform/http/problem';

/**
 * GET /api/geocode?q=: where a parent's postcode or place name is, `{latitude, longitude, label}`,
 * for the page's search when the browser's location is not given. 404 when nothing in the service
 * area matches, 400 without a usable `q`, 503 while the geocoder cannot be reached.
 */
export function geocodeHandler(deps: GeocodeQueryDeps): HttpHandler {
  return withProblemDetails(async (request) => {
    const query = parseGeocodeQuery(request.query);
    try {
      // Where a postcode or town is does not change: let browsers and proxies keep the answer.
      return { status: 200, headers: { 'cache-control': 'public, max-age=86400' }, jsonBody: await locateForParents(deps, query) };
    } catch (error) {
      if (error instanceof GeocoderUnavailableError)
        throw new HttpProblem(503, 'Places cannot be looked up just now; try again in a minute, or use your location.');
      throw error;
    }
  });
}

export const geocodeFunction: HttpHandler = (request, context) => geocodeHandler(appServices())(request, context);
