import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { parseWith } from '@saga/nest-kit';
import { CustomerIdSchema, MoveMoneySchema, TransactionsQuery } from './wallet.dto';
import { WalletService } from './wallet.service';
import { transactionView, walletView } from './wallet.view';

/** Public wallet API of DESIGN §3. */
@Controller('api/wallets')
export class WalletsController {
  constructor(@Inject(WalletService) private readonly wallets: WalletService) {}

  @Get(':customerId')
  async get(@Param('customerId') customerId: string) {
    return walletView(await this.wallets.get(parseWith(CustomerIdSchema, customerId, 'customerId')));
  }

  @Post(':customerId/deposit')
  @HttpCode(200)
  deposit(@Param('customerId') customerId: string, @Body() body: unknown) {
    return this.move('DEPOSIT', customerId, body);
  }

  @Post(':customerId/withdraw')
  @HttpCode(200)
  withdraw(@Param('customerId') customerId: string, @Body() body: unknown) {
    return this.move('WITHDRAWAL', customerId, body);
  }

  @Get(':customerId/transactions')
  async transactions(@Param('customerId') customerId: string, @Query() query: unknown) {
    const q = parseWith(TransactionsQuery, query, 'query');
    const rows = await this.wallets.transactions(parseWith(CustomerIdSchema, customerId, 'customerId'), q.limit, q.offset);
    return rows.map(transactionView);
  }

  private async move(type: 'DEPOSIT' | 'WITHDRAWAL', customerId: string, body: unknown) {
    const input = parseWith(MoveMoneySchema, body);
    const done = await this.wallets.move(type, parseWith(CustomerIdSchema, customerId, 'customerId'), input);
    return { ...walletView(done.wallet), transaction: transactionView(done.transaction) };
  }
}
