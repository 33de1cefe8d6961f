/** `metricstor agent --config FILE`: runs the scrape agent until SIGINT or SIGTERM. */
import { loadAgentConfigFile } from './config.js';
import { startAgent } from './agent.js';

/** Runs the agent with the given config file; resolves after a signal stopped it. */
export async function agentCommand(configFile: string): Promise<void> {
  const config = loadAgentConfigFile(configFile);
  const write = (level: string, msg: string, fields: Record<string, unknown>): void =>
    void process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields })}\n`);
  const agent = await startAgent(config, { log: write });
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      write('info', 'agent stopping', { signal });
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await agent.stop();
}
