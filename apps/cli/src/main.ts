import { run } from './program.ts';

// Exit explicitly: an SSE stream or a keep-alive socket must not hold the process open once the command is done.
process.exit(await run(process.argv.slice(2)));
