// A plain REST client for /api/todos: fetch, JSON and the DOM, nothing else.
// It re-reads the list after every change. Items that an answer marks
// "_pending": true (changed here, not yet stored by the server) are shown
// greyed; that is all this page knows about where its answers come from.
'use strict';

const list = document.getElementById('todos');
const form = document.getElementById('new-todo');
const errorBox = document.getElementById('error');
const summary = document.getElementById('summary');
const MAX_TITLE_LENGTH = 500;

let filter = 'all';
/** The todo being renamed and the text typed so far, kept across re-renders. */
let editing = null;
/** Only the latest list request may render, whatever order the answers come in. */
let latestLoad = 0;
/** Whether the error shown came from loading the list (a good load clears it) or from a change (it stays until the next one). */
let errorFrom = null;

function showError(message, from) {
  errorBox.textContent = message;
  errorFrom = from;
}

function clearError(from) {
  if (from && errorFrom !== from) return;
  errorBox.textContent = '';
  errorFrom = null;
}

const itemUrl = (id) => `/api/todos/${encodeURIComponent(id)}`;

/** Sends one request; resolves with the JSON body (null when there is none), rejects with a message fit to show. */
async function api(method, url, body) {
  const init = { method, headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['content-type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new Error(`Could not reach the server (${error.message}).`);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    if (response.ok) throw new Error(`${method} ${url}: the answer was not JSON.`);
  }
  if (!response.ok) {
    const reason = data?.error ?? data?.detail ?? data?.title ?? response.statusText;
    throw new Error(`${method} ${url} failed: ${reason} (HTTP ${response.status}).`);
  }
  return data;
}

function element(tag, properties = {}, attributes = {}) {
  const node = Object.assign(document.createElement(tag), properties);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function row(todo) {
  const done = todo.done === true;
  const pending = todo._pending === true;
  const titleId = `title-${todo.id}`;
  const li = element('li', { className: `todo${done ? ' done' : ''}${pending ? ' pending' : ''}` });
  li.dataset.id = todo.id;
  li.append(
    element('input', { type: 'checkbox', className: 'toggle', checked: done }, { 'aria-labelledby': titleId }),
    element('span', { className: 'title', id: titleId, textContent: todo.title, title: 'Double-click to rename' }),
  );
  if (pending) li.append(element('span', { className: 'note', textContent: 'not saved yet' }));
  li.append(
    element('button', { type: 'button', className: 'rename', textContent: 'Rename' }, { 'aria-label': `Rename “${todo.title}”` }),
    element('button', { type: 'button', className: 'delete', textContent: 'Delete' }, { 'aria-label': `Delete “${todo.title}”` }),
  );
  return li;
}

const rowOf = (id) => [...list.children].find((li) => li.dataset.id === id);

function render(todos) {
  // Re-rendering replaces every control: put the focus back where it was.
  const active = document.activeElement;
  const focusedRow = active && list.contains(active) ? active.closest('li')?.dataset.id : undefined;
  const focusedClass = focusedRow !== undefined ? active.classList[0] : undefined;

  list.replaceChildren(...todos.map(row));
  const left = todos.filter((todo) => todo.done !== true).length;
  summary.textContent = todos.length === 0 ? 'Nothing here.' : `${left} to do, ${todos.length - left} done`;

  const editedRow = editing && rowOf(editing.id);
  if (editedRow) openEditor(editedRow, editing.draft, focusedClass === 'edit');
  else editing = null;
  if (focusedRow === undefined || focusedClass === 'edit') return;
  const target = rowOf(focusedRow)?.querySelector(`.${focusedClass}`);
  (target ?? form.elements.title).focus();
}

async function load() {
  const ticket = ++latestLoad;
  list.setAttribute('aria-busy', 'true');
  try {
    const todos = await api('GET', filter === 'all' ? '/api/todos' : `/api/todos?done=${filter}`);
    if (ticket !== latestLoad) return;
    if (!Array.isArray(todos)) throw new Error('the server did not answer with a list.');
    render(todos);
    clearError('load');
  } catch (error) {
    // The reason a change failed says more than the reload after it failing too.
    if (ticket === latestLoad && errorFrom !== 'change') showError(`Could not load the list: ${error.message}`, 'load');
  } finally {
    if (ticket === latestLoad) list.setAttribute('aria-busy', 'false');
  }
}

/** Makes one change, shows what went wrong if it failed, and re-reads the list either way. */
async function change(request) {
  clearError();
  try {
    await request();
  } catch (error) {
    showError(error.message, 'change');
  }
  await load();
}

function openEditor(li, draft, focus = true) {
  const title = li.querySelector('.title');
  const editor = element('form', { className: 'editor' });
  const input = element(
    'input',
    { className: 'edit', name: 'title', value: draft, maxLength: MAX_TITLE_LENGTH, required: true },
    { 'aria-label': `New title for “${title.textContent}”` },
  );
  editor.append(
    input,
    element('button', { type: 'submit', className: 'save', textContent: 'Save' }),
    element('button', { type: 'button', className: 'cancel', textContent: 'Cancel' }),
  );
  li.classList.add('editing');
  title.after(editor);
  editing = { id: li.dataset.id, draft };
  input.addEventListener('input', () => editing && (editing.draft = input.value));
  input.addEventListener('keydown', (event) => event.key === 'Escape' && closeEditor(li));
  editor.querySelector('.cancel').addEventListener('click', () => closeEditor(li));
  editor.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = input.value;
    if (value.trim() === '') return;
    editing = null;
    if (value === title.textContent) return closeEditor(li);
    change(() => api('PATCH', itemUrl(li.dataset.id), { title: value }));
  });
  if (focus) {
    input.focus();
    input.select();
  }
}

/** Renames start from the latest version of the todo (the list may be older); offline, from what the list shows. */
async function rename(li) {
  let draft = li.querySelector('.title').textContent;
  try {
    const todo = await api('GET', itemUrl(li.dataset.id));
    if (typeof todo?.title === 'string') draft = todo.title;
  } catch {}
  // The list may have been drawn again meanwhile.
  const row = rowOf(li.dataset.id);
  if (!row || row.classList.contains('editing')) return;
  row.querySelector('.title').textContent = draft;
  openEditor(row, draft);
}

function closeEditor(li) {
  editing = null;
  li.querySelector('.editor')?.remove();
  li.classList.remove('editing');
  li.querySelector('.rename').focus();
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const input = form.elements.title;
  const title = input.value;
  if (title.trim() === '') return input.focus();
  change(async () => {
    await api('POST', '/api/todos', { id: crypto.randomUUID(), title, done: false });
    if (input.value === title) form.reset();
  });
});

list.addEventListener('change', (event) => {
  const toggle = event.target.closest('.toggle');
  if (toggle) change(() => api('PATCH', itemUrl(toggle.closest('li').dataset.id), { done: toggle.checked }));
});

list.addEventListener('click', (event) => {
  const button = event.target.closest('button.rename, button.delete');
  const li = button?.closest('li');
  if (!li || li.classList.contains('editing')) return;
  if (button.classList.contains('rename')) rename(li);
  else change(() => api('DELETE', itemUrl(li.dataset.id)));
});

list.addEventListener('dblclick', (event) => {
  const li = event.target.closest('.title')?.closest('li');
  if (li && !li.classList.contains('editing')) rename(li);
});

for (const radio of document.querySelectorAll('input[name="filter"]'))
  radio.addEventListener('change', () => {
    filter = radio.value;
    load();
  });

document.getElementById('reload').addEventListener('click', () => load());
// Fresh again when the tab comes back into view.
document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && load());
// Optional, and the page's only line that knows the worker: when it refreshes cached answers (a write
// delivered in the background, a change made elsewhere), read the list again, so rows lose "not saved yet".
document.addEventListener('DOMContentLoaded', () => window.offlineOutbox?.on('cache-updated', () => load()));

load();
