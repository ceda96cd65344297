// The server extension's REST API (jupyterlab_kip/handlers.py): every request goes through
// ServerConnection, which adds the token or the _xsrf header the server requires.
import { ServerConnection } from '@jupyterlab/services';

export interface IFinding {
  id: string;
  severity: 'error' | 'warning' | 'info';
  subject: string;
  message: string;
  explanation?: string;
  fix?: { text: string; automatic: boolean } | null;
}

export interface IKernelInfo {
  kernel_name: string;
  display_name: string | null;
  language: string | null;
  kind: string | null;
  prefix: string | null;
  version: string | null;
  interpreter: string | null;
  doctor: {
    findings: IFinding[];
    summary: { error: number; warning: number; info: number };
  };
}

export interface IWhy {
  module: string;
  importable: boolean;
  elsewhere: { prefix: string; kind: string; distribution: string | null }[];
  provided_by: string | null;
  install: string | null;
}

export interface IInstallReport {
  ok: boolean;
  error: string | null;
  proof: { module: string; ok: boolean; error: string | null }[];
  restart: { must_restart: boolean; advice: string }[];
}

function url(...parts: string[]): string {
  const settings = ServerConnection.makeSettings();
  return (
    settings.baseUrl.replace(/\/$/, '') +
    '/kip/' +
    parts.map(encodeURIComponent).join('/')
  );
}

async function request(
  path: string[],
  init: RequestInit = {}
): Promise<Response> {
  const settings = ServerConnection.makeSettings();
  return ServerConnection.makeRequest(url(...path), init, settings);
}

async function json<T>(path: string[]): Promise<T> {
  const r = await request(path);
  if (!r.ok) {
    throw new Error(`kip: ${r.status} ${await r.text()}`);
  }
  return (await r.json()) as T;
}

export function kernelInfo(kernelId: string): Promise<IKernelInfo> {
  return json<IKernelInfo>(['kernel', kernelId]);
}

export function why(kernelId: string, module: string): Promise<IWhy> {
  return json<IWhy>(['why', kernelId, module]);
}

/**
 * POST install/<kernel_id>; calls `progress` with each output line while kip runs and
 * resolves to kip's report. The server installs only a distribution kip knows.
 */
export async function install(
  kernelId: string,
  name: string,
  progress: (line: string) => void
): Promise<IInstallReport> {
  const r = await request(['install', kernelId], {
    method: 'POST',
    body: JSON.stringify({ name })
  });
  if (!r.ok || !r.body) {
    throw new Error(`kip: ${r.status} ${await r.text()}`);
  }
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  let report: IInstallReport | null = null;
  let error: string | null = null;
  const take = (line: string) => {
    if (!line.trim()) {
      return;
    }
    const msg = JSON.parse(line);
    if (msg.report) {
      report = msg.report as IInstallReport;
    } else if (msg.error) {
      error = msg.error as string;
    } else if (msg.event) {
      progress(msg.event.line ?? JSON.stringify(msg.event));
    }
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    buffered += decoder.decode(value, { stream: true });
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    lines.forEach(take);
  }
  take(buffered);
  if (report === null) {
    throw new Error(error ?? 'kip install printed no report');
  }
  return report;
}
