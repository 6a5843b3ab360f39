import { Module, type DynamicModule } from '@nestjs/common';
import { OrderService } from './order.service';
import { OrdersController } from './orders.controller';

/** HTTP wiring of the order service; the service itself is built in main.ts. */
@Module({})
export class OrderModule {
  static register(orders: OrderService): DynamicModule {
    return {
      module: OrderModule,
      controllers: [OrdersController],
      providers: [{ provide: OrderService, useValue: orders }],
    };
  }
}
