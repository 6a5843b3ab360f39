import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { setNextLink, parseWith } from '@saga/nest-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
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

  /** A page of the wallet's transactions; `Link: <…>; rel="next"` while there are more. */
  @Get(':customerId/transactions')
  async transactions(@Param('customerId') customerId: string, @Query() query: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) res: FastifyReply) {
    const q = parseWith(TransactionsQuery, query, 'query');
    const page = await this.wallets.transactions(parseWith(CustomerIdSchema, customerId, 'customerId'), q);
    setNextLink(req, res, page);
    return { ...page, items: page.items.map(transactionView) };
  }

  private async move(type: 'DEPOSIT' | 'WITHDRAWAL', customerId: string, body: unknown) {
    const input = parseWith(MoveMoneySchema, body);
    const done = await this.wallets.move(type, parseWith(CustomerIdSchema, customerId, 'customerId'), input);
    return { ...walletView(done.wallet), transaction: transactionView(done.transaction) };
  }
}
