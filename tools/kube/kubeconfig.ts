// Credentials for the live commands (IO: reads kubeconfig files and the environment). Every
// failure is a ToolError with exit code 2 and a fix, never a stack trace: a missing file, a
// kubeconfig that does not parse, a --context that it does not contain, or no credentials at all.
import { KubeConfig } from '@kubernetes/client-node';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EXIT, ToolError } from '../errors';

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

function usage(message: string, fix: string): ToolError {
  return new ToolError(message, EXIT.USAGE, 'KUBECONFIG', fix);
}

function loadFile(kc: KubeConfig, file: string, where: string): void {
  if (!fs.existsSync(file)) throw usage(`kubeconfig ${file} (${where}) does not exist`, 'Give --kubeconfig FILE of an existing file, or fix $KUBECONFIG.');
  try {
    kc.loadFromFile(file);
  } catch (e) {
    throw usage(`kubeconfig ${file} (${where}) cannot be read: ${(e as Error).message}`, 'Check the file with `kubectl config view --kubeconfig FILE`.');
  }
}

/**
 * Loads credentials the way kubectl does: `--kubeconfig FILE`, else every file of $KUBECONFIG
 * (merged), else ~/.kube/config, else in-cluster service-account credentials. `context`, if
 * given, must be one of the kubeconfig's contexts. Throws ToolError (exit 2, code KUBECONFIG).
 */
export function loadKubeConfig(kubeconfig?: string, context?: string, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  const home = path.join(env.HOME ?? os.homedir(), '.kube', 'config');
  if (kubeconfig) loadFile(kc, kubeconfig, '--kubeconfig');
  else if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(path.delimiter).filter(Boolean);
    loadFile(kc, files[0], '$KUBECONFIG');
    for (const f of files.slice(1)) { const more = new KubeConfig(); loadFile(more, f, '$KUBECONFIG'); kc.mergeConfig(more); }
  } else if (fs.existsSync(home)) loadFile(kc, home, '~/.kube/config');
  else if (env.KUBERNETES_SERVICE_HOST && fs.existsSync(SA_TOKEN)) kc.loadFromCluster();
  else {
    throw usage('no Kubernetes credentials: no --kubeconfig, no $KUBECONFIG, no ~/.kube/config, and not running in a pod',
      'Give --kubeconfig FILE (or set $KUBECONFIG), or use -f FILE to work without a cluster.');
  }
  if (context) {
    if (!kc.getContextObject(context)) {
      throw usage(`context "${context}" is not in the kubeconfig (contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`,
        'Pick one of the listed contexts (`kubectl config get-contexts`).');
    }
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) {
    throw usage(`the kubeconfig has no current context with a cluster${context ? '' : ' (current-context is unset or names no cluster)'}`,
      'Give --context NAME or set current-context (`kubectl config use-context NAME`).');
  }
  return kc;
}
