import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * A pino logger writing JSON lines that carry `"service"`, to stdout or to `destination` (e.g. a
 * runner hosting several services in one process prefixes each service's lines). On a terminal the
 * lines are pretty-printed (pino-pretty, in a worker thread); otherwise stdout is written
 * asynchronously, lines coalesced while a write is in flight (flushed at exit by pino).
 *
 * @example
 * const logger = createLogger('wallet', 'info');
 * logger.info({ orderId }, 'debit applied');
 */
export function createLogger(service: string, level = 'info', destination?: DestinationStream): Logger {
  const options = { level, base: { service, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  return pino(options, destination ?? stdoutDestination());
}

let stdout: DestinationStream | undefined;

/** One stdout destination per process, shared by the loggers of every service in it. */
function stdoutDestination(): DestinationStream {
  stdout ??= process.stdout.isTTY
    ? pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } })
    : pino.destination({ dest: 1, sync: false });
  return stdout;
}

/**
 * Nest's own log lines (bootstrap, route mapping, uncaught errors) through pino. Nest's chatty `log`
 * level goes to debug so a service's info log shows only what it says itself.
 *
 * @example
 * await NestFactory.create(AppModule, adapter, { logger: new PinoNestLogger(logger) });
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  error(message: unknown, stack?: string, context?: string): void {
    this.logger.error({ context, stack }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
  fatal(message: unknown, context?: string): void {
    this.logger.fatal({ context }, String(message));
  }
}
