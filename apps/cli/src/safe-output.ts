/**
 * Output into a pipe whose reader went away (`beamline audit replay | head -1`): the first write after that
 * fails with EPIPE. That is not an error of the command — the reader has all it wanted — so the process ends
 * at once, quietly, with status 0, instead of dying of an unhandled 'error' event with a stack trace.
 */
export function exitQuietlyOnClosedPipe(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}
