// The persons of a case as a form: one row per person (name, role, age) and,
// for each person, the minors of the case it holds custody for. Used by the
// form that opens a case and by the correction of a case's persons.

import { h, replace, field, uid, oneLine } from '../dom.js';

const ROLE_SUGGESTIONS = ['Mutter', 'Vater', 'Kind', 'Erziehungsberechtigte Person', 'Großmutter',
  'Großvater', 'Pflegemutter', 'Pflegevater', 'Person'];

// Age from which a person is of age (BN_AGE_OF_MAJORITY): a younger one is a
// minor, for whom only a person with custody may consent.
export const AGE_OF_MAJORITY = 18;

// Builds the rows for `members` (the case's, or none for a new case: then
// one empty row). Returns {persons, custody, collect}: the two fieldsets to
// place in a form, and collect(), which returns {members} as the API takes
// them, or {error} with a German sentence.
export function memberEditor(members = []) {
  const roleList = h('datalist', { id: uid('member-roles') },
    ROLE_SUGGESTIONS.map((r) => h('option', { value: r })));
  const memberRows = h('div', { class: 'rows', 'data-testid': 'case-members-rows' });
  const custodyArea = h('div', {});
  // Custody (Sorgerecht): built anew from the persons as they are typed;
  // what was ticked stays ticked.
  const custodyTicked = new Set(); // 'parent\u0000child'
  const custodyKey = (parent, child) => `${parent}\u0000${child}`;

  const rowsNow = () => [...memberRows.querySelectorAll('[data-testid="member-row"]')];
  const valueIn = (row, testid) => row.querySelector(`[data-testid="${testid}"]`).value;
  const persons = () => rowsNow().map((row) => {
    const age = valueIn(row, 'member-age');
    return {
      name: oneLine(valueIn(row, 'member-name')),
      minor: age !== '' && Number(age) < AGE_OF_MAJORITY,
    };
  }).filter((person) => person.name);

  function showCustody() {
    const named = persons();
    const minors = named.filter((person) => person.minor).map((person) => person.name);
    if (!minors.length) {
      replace(custodyArea, h('p', { class: 'empty', 'data-testid': 'case-custody-none' },
        'Keine minderjährige Person erfasst (unter 18 Jahren).'));
      return;
    }
    replace(custodyArea, named.map((parent) => {
      const children = minors.filter((child) => child !== parent.name);
      if (!children.length) return null;
      return h('fieldset', { class: 'choices' },
        h('legend', {}, `${parent.name} hat das Sorgerecht für`),
        children.map((child) => {
          const id = uid('custody');
          const box = h('input', {
            type: 'checkbox', id, checked: custodyTicked.has(custodyKey(parent.name, child)),
            'data-testid': 'custody-choice', 'data-parent': parent.name, 'data-child': child,
            on: { change: (event) => {
              const key = custodyKey(parent.name, child);
              if (event.target.checked) custodyTicked.add(key);
              else custodyTicked.delete(key);
            } },
          });
          return h('div', { class: 'choice' }, box, h('label', { for: id }, child));
        }));
    }));
  }

  const addMember = (focus, member = {}) => {
    const n = memberRows.children.length + 1;
    const name = h('input', { type: 'text', required: true, maxlength: '100', value: member.name, 'data-testid': 'member-name' });
    const role = h('input', { type: 'text', required: true, maxlength: '100', list: roleList.id, value: member.role, 'data-testid': 'member-role' });
    const age = h('input', {
      type: 'number', required: true, min: '0', max: '130', step: '1', inputmode: 'numeric',
      value: typeof member.age === 'number' ? String(member.age) : undefined, 'data-testid': 'member-age',
    });
    const row = h('fieldset', { class: 'row', 'data-testid': 'member-row' },
      h('legend', {}, `Person ${n}`),
      field('Name', name),
      field('Rolle', role, 'Zum Beispiel Mutter, Vater oder Kind. „Kind“ gibt das Alter der Kinder weiter.'),
      field('Alter in Jahren', age),
      h('button', { type: 'button', class: 'secondary small', 'data-testid': 'member-remove',
        on: { click: () => { removeRow(memberRows, row, 'Person'); showCustody(); } } }, `Person ${n} entfernen`));
    memberRows.appendChild(row);
    showCustody();
    if (focus) name.focus();
  };

  for (const member of members) {
    for (const child of member.custody_for || []) custodyTicked.add(custodyKey(member.name, child));
    addMember(false, member);
  }
  if (!members.length) addMember(false);
  memberRows.addEventListener('input', showCustody);

  const personsGroup = h('fieldset', { class: 'group' },
    h('legend', {}, 'Personen'),
    roleList,
    memberRows,
    h('button', { type: 'button', class: 'secondary', 'data-testid': 'member-add', on: { click: () => addMember(true) } },
      'Weitere Person hinzufügen'));
  const custodyGroup = h('fieldset', { class: 'group', 'data-testid': 'case-custody' },
    h('legend', {}, 'Sorgerecht'),
    h('p', { class: 'hint' }, 'Für ein Kind willigt nur eine Person ein, die das Sorgerecht hat. Bitte für jede Person ankreuzen, für welche Kinder des Falls sie sorgeberechtigt ist.'),
    custodyArea);

  const collect = () => {
    const list = rowsNow().map((row) => ({
      name: oneLine(valueIn(row, 'member-name')),
      role: oneLine(valueIn(row, 'member-role')),
      age: Number(valueIn(row, 'member-age')),
    }));
    if (!list.length) return { error: 'Bitte mindestens eine Person angeben.' };
    const names = list.map((m) => m.name);
    if (new Set(names).size !== names.length) {
      return { error: 'Zwei Personen haben denselben Namen. Bitte die Namen unterscheiden, zum Beispiel mit dem Geburtsjahr.' };
    }
    const minors = list.filter((m) => m.age < AGE_OF_MAJORITY).map((m) => m.name);
    for (const member of list) {
      const custody = minors.filter((child) => child !== member.name
        && custodyTicked.has(custodyKey(member.name, child)));
      if (custody.length) member.custody_for = custody;
    }
    return { members: list };
  };

  return { persons: personsGroup, custody: custodyGroup, collect };
}

// Removes a repeated row and puts the focus somewhere sensible.
export function removeRow(container, row, noun) {
  const rows = [...container.children];
  const index = rows.indexOf(row);
  row.remove();
  const rest = [...container.children];
  rest.forEach((r, i) => {
    r.querySelector('legend').textContent = `${noun} ${i + 1}`;
    const button = r.querySelector('button');
    if (button) button.textContent = `${noun} ${i + 1} entfernen`;
  });
  const target = rest[Math.min(index, rest.length - 1)];
  const focusable = target ? target.querySelector('input, select') : container.parentElement.querySelector('button');
  if (focusable) focusable.focus();
}
