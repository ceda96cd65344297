// jupyterlab-kip's frontend: the current notebook kernel's environment in the status bar (when
// there is one: Notebook 7 has none), and a notification for a ModuleNotFoundError that offers
// "Install DIST into KERNEL" only when kip knows the distribution.
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { KernelMessage } from '@jupyterlab/services';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Widget } from '@lumino/widgets';

import { IKernelInfo, install, kernelInfo, why } from './api';

/** The module of a ModuleNotFoundError's `evalue` ("No module named 'cv2.data'"). */
export function missingModule(evalue: string): string | null {
  const m = /No module named '([^']+)'/.exec(evalue);
  return m ? m[1] : null;
}

/** `venv · analysis · 3.12`: the env kind, the kernel, the Python version. */
export function envLabel(info: IKernelInfo): string {
  const version = (info.version ?? '').split('.').slice(0, 2).join('.');
  return [info.kind ?? 'unknown env', info.display_name ?? info.kernel_name, version]
    .filter(s => s)
    .join(' · ');
}

async function isPython(panel: NotebookPanel): Promise<boolean> {
  const spec = await panel.sessionContext.session?.kernel?.spec;
  return (spec?.language ?? '').toLowerCase() === 'python';
}

class EnvStatus extends Widget {
  info: IKernelInfo | null = null;

  constructor() {
    super();
    this.addClass('jp-kip-status');
    this.node.title = 'kip: the kernel\u2019s environment (click for the doctor\u2019s findings)';
    this.node.addEventListener('click', () => void this.showFindings());
  }

  async follow(panel: NotebookPanel | null): Promise<void> {
    this.info = null;
    this.node.textContent = '';
    const kernel = panel?.sessionContext.session?.kernel;
    if (!panel || !kernel || !(await isPython(panel))) {
      return;
    }
    try {
      const info = await kernelInfo(kernel.id);
      const s = info.doctor.summary;
      const count = s.error + s.warning;
      this.info = info;
      this.node.textContent = envLabel(info) + (count ? ` \u26a0 ${count}` : '');
    } catch (e) {
      this.node.textContent = 'kip: ?';
      this.node.title = String(e);
    }
  }

  async showFindings(): Promise<void> {
    if (!this.info) {
      return;
    }
    const body = document.createElement('div');
    body.className = 'jp-kip-findings';
    const head = document.createElement('p');
    head.textContent = `${this.info.interpreter ?? ''} (${this.info.prefix ?? ''})`;
    body.appendChild(head);
    const list = document.createElement('ul');
    for (const f of this.info.doctor.findings) {
      const li = document.createElement('li');
      li.textContent = `${f.severity}: ${f.message}` + (f.fix ? ` \u2014 fix: ${f.fix.text}` : '');
      list.appendChild(li);
    }
    if (!this.info.doctor.findings.length) {
      list.textContent = 'kip doctor found nothing.';
    }
    body.appendChild(list);
    await showDialog({
      title: 'kip doctor',
      body: new Widget({ node: body }),
      buttons: [Dialog.okButton()]
    });
  }
}

async function offerInstall(panel: NotebookPanel, module: string): Promise<void> {
  const kernel = panel.sessionContext.session?.kernel;
  if (!kernel) {
    return;
  }
  const kernelName = panel.sessionContext.kernelDisplayName;
  const answer = await why(kernel.id, module);
  if (answer.importable) {
    return;
  }
  if (!answer.provided_by) {
    // Never turn an unknown module's name into an install: say what kip knows, no action.
    Notification.warning(
      `No module named "${module}". kip knows no distribution that provides it (not in its table, not installed in another environment here).`,
      { autoClose: false }
    );
    return;
  }
  const dist = answer.provided_by;
  const id = Notification.info(`No module named "${module}": it is provided by ${dist}.`, {
    autoClose: false,
    actions: [
      {
        label: `Install ${dist} into ${kernelName}`,
        callback: event => {
          event.preventDefault();
          void runInstall(id, kernel.id, module, dist, kernelName);
        }
      }
    ]
  });
}

async function runInstall(
  id: string,
  kernelId: string,
  module: string,
  dist: string,
  kernelName: string
): Promise<void> {
  const update = (message: string, type: Notification.TypeOptions, done: boolean) =>
    Notification.update({ id, message, type, autoClose: done ? false : undefined, actions: [] });
  update(`Installing ${dist} into ${kernelName}\u2026`, 'in-progress', false);
  try {
    const report = await install(kernelId, module, line =>
      update(`Installing ${dist} into ${kernelName}: ${line}`, 'in-progress', false)
    );
    const stale = report.restart.filter(r => r.must_restart).map(r => r.advice);
    if (!report.ok) {
      update(`Installing ${dist} failed: ${report.error ?? 'see the server log'}`, 'error', true);
    } else if (stale.length) {
      update(`${dist} is installed; ${stale.join('; ')}`, 'warning', true);
    } else {
      const now = await why(kernelId, module);
      update(
        now.importable
          ? `${dist} is installed: "import ${module}" works in ${kernelName} now.`
          : `${dist} is installed, but "${module}" is not importable yet: restart ${kernelName}.`,
        now.importable ? 'success' : 'warning',
        true
      );
    }
  } catch (e) {
    update(`Installing ${dist} failed: ${e}`, 'error', true);
  }
}

function watch(panel: NotebookPanel): void {
  panel.sessionContext.iopubMessage.connect((_, msg) => {
    if (!KernelMessage.isErrorMsg(msg) || msg.content.ename !== 'ModuleNotFoundError') {
      return;
    }
    const module = missingModule(msg.content.evalue);
    if (!module) {
      return;
    }
    void isPython(panel).then(py => (py ? offerInstall(panel, module) : undefined));
  });
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-kip:plugin',
  description: 'The kernel\u2019s environment, and installs into exactly that environment, by kip.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [IStatusBar],
  activate: (_app: JupyterFrontEnd, tracker: INotebookTracker, statusBar: IStatusBar | null) => {
    tracker.widgetAdded.connect((_, panel) => watch(panel));
    if (!statusBar) {
      return;
    }
    const status = new EnvStatus();
    const refresh = () => void status.follow(tracker.currentWidget);
    tracker.currentChanged.connect((_, panel) => {
      refresh();
      panel?.sessionContext.kernelChanged.connect(refresh);
    });
    statusBar.registerStatusItem('jupyterlab-kip:env', {
      item: status,
      align: 'left',
      rank: 4,
      isActive: () => tracker.currentWidget !== null
    });
    refresh();
  }
};

export default plugin;
