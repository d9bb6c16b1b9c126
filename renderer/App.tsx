// Two screens share one bundle: the manager (VM list) and a display window for one
// VM (#/display/<id>), opened in its own window like VirtualBox's VM windows.
import { useEffect, useState } from 'react';
import { hostClient } from './api/host-client';
import { ManagerWindow } from './manager/ManagerWindow';
import { DisplayWindow } from './display/DisplayWindow';

function route(): { screen: 'manager' } | { screen: 'display'; vmId: string } {
  const m = /^#\/display\/([0-9a-f-]+)$/.exec(location.hash);
  return m ? { screen: 'display', vmId: m[1] } : { screen: 'manager' };
}

export function App() {
  const [r, setR] = useState(route);
  useEffect(() => {
    const onHash = () => setR(route());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const client = hostClient();
  return r.screen === 'display' ? <DisplayWindow client={client} vmId={r.vmId} /> : <ManagerWindow client={client} />;
}
