import { bindingDataOf, odataLiteral, parameterizedQuery, resolveBindingPattern } from '../../src/bindings/bindingData';

describe('binding expressions, as the host resolves them for one invocation', () => {
  const settings = { CONTAINER: 'photos' };

  it('names from the trigger metadata, route parameters, query, headers and a JSON body, without regard to case', () => {
    const data = bindingDataOf(
      'httpTrigger',
      {
        http: {
          params: { id: '42' },
          query: { size: 'large' },
          headers: { 'x-tenant': 'acme' },
          body: { string: JSON.stringify({ owner: { name: 'ada' } }) },
        },
      },
      { Extra: { json: '"meta"' } },
    );
    expect(resolveBindingPattern('%CONTAINER%/{ID}/{Query.size}/{headers.X-Tenant}/{owner.name}/{extra}', data, settings)).toBe(
      'photos/42/large/acme/ada/meta',
    );
  });

  it('a queue message is {queueTrigger}, and a JSON message lends its properties', () => {
    const data = bindingDataOf('queueTrigger', { string: '{"orderId":"o-7"}' }, { QueueTrigger: { string: '{"orderId":"o-7"}' } });
    expect(resolveBindingPattern('orders/{orderId}', data, settings)).toBe('orders/o-7');
    expect(resolveBindingPattern('raw/{queueTrigger}', data, settings)).toBe('raw/{"orderId":"o-7"}');
  });

  it("{rand-guid} and {DateTime} are one value each per invocation, in the host's formats, and a name with no value fails the invocation", () => {
    const data = bindingDataOf('timerTrigger', undefined, {});
    const [first, second] = resolveBindingPattern('{rand-guid}/{rand-guid}', data, settings).split('/');
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(second).toBe(first);
    expect(resolveBindingPattern('{rand-guid}', bindingDataOf('timerTrigger', undefined, {}), settings)).not.toBe(first);
    expect(resolveBindingPattern('{rand-guid:N}', data, settings)).toBe(first?.replace(/-/g, ''));
    // The host's default DateTime format has no colons (it names blobs): yyyy-MM-ddTHH-mm-ssK.
    expect(resolveBindingPattern('{DateTime}', data, settings)).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/);
    expect(resolveBindingPattern('{DateTime:yyyy}', data, settings)).toBe(String(new Date().getUTCFullYear()));
    expect(() => resolveBindingPattern('out/{missing}', data, settings)).toThrow("No value for named parameter 'missing'.");
  });

  it("the trigger's own data wins over the system values of the same name", () => {
    const data = bindingDataOf('queueTrigger', { string: '{"DateTime":"given"}' }, {});
    expect(resolveBindingPattern('{DateTime}', data, settings)).toBe('given');
  });

  it('HTTP: each query parameter but code by its own name, the route winning over the query and the query over the body', () => {
    const data = bindingDataOf(
      'httpTrigger',
      {
        http: {
          params: { id: 'route' },
          query: { id: 'query', size: 'large', code: 'secret' },
          body: { string: '{"size":"body","colour":"red"}' },
        },
      },
      {},
    );
    expect(resolveBindingPattern('{id}/{size}/{colour}', data, settings)).toBe('route/large/red');
    expect(() => resolveBindingPattern('{code}', data, settings)).toThrow("No value for named parameter 'code'.");
  });

  it("the queue trigger's message is {queueTrigger} even without its metadata", () => {
    expect(resolveBindingPattern('{queueTrigger}', bindingDataOf('queueTrigger', { string: 'plain text' }, {}), settings)).toBe(
      'plain text',
    );
  });

  it("a table filter's values are OData literals: a quote in a value cannot change the filter", () => {
    const data = bindingDataOf('httpTrigger', { http: { query: { name: "O'Brien' or true or 'a'='a" } } }, {});
    expect(resolveBindingPattern("Name eq '{name}'", data, settings, odataLiteral)).toBe("Name eq 'O''Brien'' or true or ''a''=''a'");
  });

  it('a Cosmos DB query gets its values as parameters, never spliced into the text', () => {
    const data = bindingDataOf('httpTrigger', { http: { query: { kind: "toy' OR 1=1" } } }, {});
    expect(parameterizedQuery('SELECT * FROM c WHERE c.kind = {Query.kind}', data, settings)).toEqual({
      query: 'SELECT * FROM c WHERE c.kind = @Query_kind',
      parameters: [{ name: '@Query_kind', value: "toy' OR 1=1" }],
    });
  });
});
