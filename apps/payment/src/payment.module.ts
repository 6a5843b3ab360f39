import { Module, type DynamicModule } from '@nestjs/common';
import type { Database } from '@saga/postgres';
import { PAYMENT_DB, PaymentsController } from './payments.controller';

@Module({})
export class PaymentModule {
  static register(db: Database): DynamicModule {
    return { module: PaymentModule, controllers: [PaymentsController], providers: [{ provide: PAYMENT_DB, useValue: db }] };
  }
}
