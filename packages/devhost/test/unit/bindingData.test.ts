import { bindingDataOf, parameterizedQuery, resolveBindingPattern } from '../../src/bindings/bindingData';

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

  it('{rand-guid} and {DateTime} are made up each time; a name with no value fails the invocation', () => {
    const data = bindingDataOf('timerTrigger', undefined, {});
    expect(resolveBindingPattern('out/{rand-guid}', data, settings)).toMatch(/^out\/[0-9a-f-]{36}$/);
    expect(resolveBindingPattern('{DateTime}', data, settings)).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(() => resolveBindingPattern('out/{missing}', data, settings)).toThrow("No value for named parameter 'missing'.");
  });

  it('a Cosmos DB query gets its values as parameters, never spliced into the text', () => {
    const data = bindingDataOf('httpTrigger', { http: { query: { kind: "toy' OR 1=1" } } }, {});
    expect(parameterizedQuery('SELECT * FROM c WHERE c.kind = {Query.kind}', data, settings)).toEqual({
      query: 'SELECT * FROM c WHERE c.kind = @Query_kind',
      parameters: [{ name: '@Query_kind', value: "toy' OR 1=1" }],
    });
  });
});
