import { Module, type DynamicModule } from '@nestjs/common';
import { OrderEventStreams } from './order-events.stream';
import { OrderService } from './order.service';
import { OrdersController } from './orders.controller';

/** HTTP wiring of the order service; the service itself is built in main.ts. */
@Module({})
export class OrderModule {
  static register(orders: OrderService, events: OrderEventStreams): DynamicModule {
    return {
      module: OrderModule,
      controllers: [OrdersController],
      providers: [
        { provide: OrderService, useValue: orders },
        { provide: OrderEventStreams, useValue: events },
      ],
    };
  }
}
