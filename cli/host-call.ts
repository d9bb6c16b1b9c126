// How a CLI command reaches the host services: through the running host (the app or
// `boxwood serve`, found in <home>/host.json) when there is one, otherwise a HostService on
// the library in this process, which cannot launch VM processes (`noHostMessage` says why).
import { readEndpoint } from '../electron/node/host-endpoint';
import { connectHost } from '../electron/node/host-api-client';
import { HostService } from '../electron/node/host-service';
import { VmLibrary } from '../electron/node/library/vm-library';

export type Call = (method: string, params?: unknown) => Promise<any>;

export async function withHostCall<T>(home: string, noHostMessage: string, run: (call: Call, remote: boolean) => Promise<T>): Promise<T> {
  const ep = readEndpoint(home);
  if (ep) {
    const remote = await connectHost(ep);
    try {
      return await run(remote.call, true);
    } finally {
      remote.close();
    }
  }
  const local = new HostService(new VmLibrary(home), () => {
    throw new Error(noHostMessage);
  });
  return run((m, p) => local.call(m, p), false);
}
