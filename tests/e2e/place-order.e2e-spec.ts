/**
 * The place-order saga through the gateway and the order service, every service its own process on
 * real Kafka and PostgreSQL (the scenarios are shared with the embedded mode: place-order.scenarios.ts).
 */
import { describePlaceOrderSaga } from './place-order.scenarios.ts';
import { startTestStack } from './support.ts';

describePlaceOrderSaga('place-order saga (e2e, Kafka + PostgreSQL, one process per service)', () => startTestStack('saga'));
