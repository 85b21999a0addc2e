/**
 * Researcher actions. The page is read-only until the admin token is pasted (the coordinator
 * prints where its token file is); the token is checked once, kept in sessionStorage, and sent as
 * an `authorization` header with each action. Stop asks for a second click instead of a modal.
 */
import type { AdminAction, RunListItem } from '../api-types.js';
import { AuthError, runAction, storedToken, storeToken, verifyToken } from './api-client.js';
import { h, setText } from './dom.js';

export class AdminControls {
  /** The token form, for the page's top bar. */
  readonly form: HTMLFormElement;
  /** The action buttons, for the run view's header. */
  readonly actions: HTMLElement;
  private readonly input = h('input', { id: 'admin-token' });
  private readonly unlock = h('button', { id: 'admin-unlock', text: 'Unlock actions' });
  private readonly lock = h('button', { id: 'admin-lock', className: 'link', text: 'lock' });
  private readonly state = h('span', { id: 'admin-state', className: 'muted', text: 'read-only' });
  private readonly buttons: Record<AdminAction, HTMLButtonElement> = {
    pause: h('button', { id: 'action-pause', text: 'Pause' }),
    resume: h('button', { id: 'action-resume', text: 'Resume' }),
    stop: h('button', { id: 'action-stop', className: 'danger', text: 'Stop' }),
  };
  private readonly message = h('span', { id: 'admin-message', className: 'muted' });
  private token: string | null = null;
  private run: RunListItem | undefined;
  private paused = false;
  private busy = false;
  private stopArmedUntil = 0;

  constructor() {
    this.input.type = 'password';
    this.input.placeholder = 'admin token';
    this.input.autocomplete = 'off';
    this.input.setAttribute('aria-label', 'admin token');
    this.unlock.type = 'submit';
    this.lock.type = 'button';
    this.form = h('form', { id: 'admin-form', className: 'admin-form' }, this.state, this.input, this.unlock, this.lock);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.tryToken(this.input.value.trim());
    });
    this.lock.addEventListener('click', () => this.setToken(null, 'read-only'));
    this.actions = h('div', { id: 'admin-actions', className: 'actions' }, this.buttons.pause, this.buttons.resume, this.buttons.stop, this.message);
    for (const action of ['pause', 'resume', 'stop'] as const) this.buttons[action].addEventListener('click', () => void this.act(action));
    const saved = storedToken();
    if (saved) void this.tryToken(saved);
    this.refresh();
  }

  setRun(run: RunListItem, paused: boolean): void {
    this.run = run;
    this.paused = paused;
    this.refresh();
  }

  private async tryToken(token: string): Promise<void> {
    if (!token) return;
    setText(this.state, 'checking…');
    try {
      await verifyToken(token);
      this.setToken(token, 'admin');
      this.input.value = '';
    } catch (error) {
      this.setToken(null, error instanceof AuthError ? 'token refused: read-only' : `cannot check the token: ${(error as Error).message}`);
    }
  }

  private setToken(token: string | null, state: string): void {
    this.token = token;
    storeToken(token);
    setText(this.state, state);
    this.refresh();
  }

  private async act(action: AdminAction): Promise<void> {
    if (!this.token || !this.run || this.busy) return;
    if (action === 'stop' && Date.now() > this.stopArmedUntil) {
      this.stopArmedUntil = Date.now() + 4_000;
      setText(this.buttons.stop, 'Confirm stop');
      setTimeout(() => this.refresh(), 4_100);
      return;
    }
    this.stopArmedUntil = 0;
    this.busy = true;
    this.refresh();
    setText(this.message, `${action}…`);
    try {
      const result = await runAction(this.run.id, action, this.token);
      this.paused = result.paused;
      setText(this.message, action === 'pause' ? 'paused: the round in progress finishes, then no new round starts' : action === 'resume' ? 'resumed' : 'stopping');
    } catch (error) {
      if (error instanceof AuthError) this.setToken(null, 'token refused: read-only');
      setText(this.message, (error as Error).message);
    } finally {
      this.busy = false;
      this.refresh();
    }
  }

  private refresh(): void {
    const admin = this.token !== null;
    this.input.hidden = admin;
    this.unlock.hidden = admin;
    this.lock.hidden = !admin;
    this.form.dataset.admin = String(admin);
    const live = admin && this.run?.live === true && this.run.status === 'running' && !this.busy;
    this.actions.hidden = !admin;
    this.buttons.pause.disabled = !live || this.paused;
    this.buttons.resume.disabled = !live || !this.paused;
    this.buttons.stop.disabled = !live;
    if (Date.now() > this.stopArmedUntil) setText(this.buttons.stop, 'Stop');
  }
}
