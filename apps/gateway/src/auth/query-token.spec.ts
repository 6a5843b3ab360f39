import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { takeQueryToken } from './query-token';

describe('takeQueryToken', () => {
  it('takes the token of an event stream and strips it from the URL', () => {
    assert.deepEqual(takeQueryToken('GET', '/api/orders/o-1/events?access_token=abc', false), { token: 'abc', url: '/api/orders/o-1/events' });
    assert.deepEqual(takeQueryToken('GET', '/api/orders/o-1/events?x=1&access_token=abc', false), { token: 'abc', url: '/api/orders/o-1/events?x=1' });
  });

  it('ignores it on any other route, method, or when an Authorization header is sent', () => {
    assert.equal(takeQueryToken('GET', '/api/orders/o-1?access_token=abc', false), undefined);
    assert.equal(takeQueryToken('GET', '/api/sagas?access_token=abc', false), undefined);
    assert.equal(takeQueryToken('POST', '/api/orders/o-1/events?access_token=abc', false), undefined);
    assert.equal(takeQueryToken('GET', '/api/orders/o-1/events?access_token=abc', true), undefined);
    assert.equal(takeQueryToken('GET', '/api/orders/o-1/events', false), undefined);
  });
});
