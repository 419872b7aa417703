import { compileRouteTemplate } from '../../src/http/routeTemplate';

describe('route templates as the Functions host matches them', () => {
  it('matches literals case-insensitively and captures parameters', () => {
    const route = compileRouteTemplate('places/{id}/approve');
    expect(route.match('/Places/abc/APPROVE')).toEqual({ id: 'abc' });
    expect(route.match('places/abc')).toBeUndefined();
    expect(route.match('places/abc/approve/more')).toBeUndefined();
  });

  it('supports optional parameters, constraints and catch-alls', () => {
    expect(compileRouteTemplate('items/{id?}').match('items')).toEqual({});
    expect(compileRouteTemplate('items/{id?}').match('items/7')).toEqual({ id: '7' });
    expect(compileRouteTemplate('pages/{n:int}').match('pages/12')).toEqual({ n: '12' });
    expect(compileRouteTemplate('pages/{n:int}').match('pages/twelve')).toBeUndefined();
    expect(compileRouteTemplate('files/{*path}').match('files/a/b/c.txt')).toEqual({ path: 'a/b/c.txt' });
  });

  it('decodes percent-encoded segments', () => {
    expect(compileRouteTemplate('stores/{store}/stock').match('stores/abc%322/stock')).toEqual({ store: 'abc22' });
  });

  it('ranks a literal segment above a parameter at the same place', () => {
    expect(compileRouteTemplate('places/nearby').precedence).toBeGreaterThan(compileRouteTemplate('places/{id}').precedence);
    expect(compileRouteTemplate('places/{n:int}').precedence).toBeGreaterThan(compileRouteTemplate('places/{id}').precedence);
  });

  it('serves the site root with an optional parameter, and literal routes outrank it (routePrefix "")', () => {
    const page = compileRouteTemplate('{page?}');
    expect(page.match('')).toEqual({});
    expect(page.match('/')).toEqual({});
    expect(page.match('editor')).toEqual({ page: 'editor' });
    expect(page.match('api/health')).toBeUndefined();
    expect(compileRouteTemplate('assets/{*file}').match('assets/js/parents.js')).toEqual({ file: 'js/parents.js' });
    // `/api` alone is a page (an unknown one); a literal one-segment route would still win over it.
    expect(page.match('api')).toEqual({ page: 'api' });
    for (const literal of ['api/health', 'api/places', 'api/manage/places', 'assets/{*file}', 'health']) {
      expect({ literal, outranks: compileRouteTemplate(literal).precedence > page.precedence }).toEqual({ literal, outranks: true });
    }
  });

  it('refuses a template it cannot read', () => {
    expect(() => compileRouteTemplate('places/x{id}')).toThrow(/cannot read/);
    expect(() => compileRouteTemplate('places/{id:weird}')).toThrow(/unknown constraint/);
  });
});
