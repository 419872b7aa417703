import { openingWeek } from '../shared/places/application/openingHoursWeek';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { parseOpeningWeekQuery } from '../shared/places/http/placeRequests';

/**
 * GET /api/opening-hours/week?value&lat&lon&from: the next seven days as the opening hours say, for
 * the editor's form as they type; 400 with the parser's message when the value cannot be read.
 * Pure computation, no store: it needs no services.
 */
export function openingHoursWeekHandler(clock: () => Date): HttpHandler {
  return withProblemDetails((request) => {
    const answer = openingWeek(parseOpeningWeekQuery(request.query, clock()));
    return Promise.resolve({ status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: answer });
  });
}

export const openingHoursWeekFunction: HttpHandler = (request, context) => openingHoursWeekHandler(() => new Date())(request, context);
