// An ordinary REST client: no offline code here.
const list = document.getElementById('items');
const status = document.getElementById('status');

async function load() {
  try {
    const response = await fetch('/api/items');
    const { items, servedAt } = await response.json();
    list.replaceChildren(...items.map((item) => Object.assign(document.createElement('li'), { textContent: item.name })));
    status.textContent = `List from the server at ${new Date(servedAt).toLocaleTimeString()}`;
  } catch {
    status.textContent = 'Could not load the list.';
  }
}

document.getElementById('add').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  try {
    const response = await fetch('/api/items', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: form.elements.name.value }),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    form.reset();
    await load();
  } catch (error) {
    status.textContent = `Could not save: ${error.message}`;
  }
});

load();
