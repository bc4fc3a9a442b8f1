/* poe2openai admin page. Plain JavaScript, no build step, no third-party code.
 *
 * Everything the API returns (model ids, names, descriptions, error messages) is untrusted:
 * the DOM is built with createElement / textContent / setAttribute only, never from HTML
 * strings. The page is served with a strict Content-Security-Policy (no inline script or style).
 *
 * The configuration is edited in place: the object from GET /admin/api/config is cloned, the
 * clone is changed field by field (keys this page does not know are left alone), and the whole
 * object is PUT back with If-Match: <revision>.
 */
(function () {
  "use strict";

  // ---------------------------------------------------------------------------------------
  // Theme: applied at once (this script is loaded in <head>) so the page never flashes.
  var THEME_KEY = "poe2openai-admin-theme";

  function storedTheme() {
    try {
      var value = window.localStorage.getItem(THEME_KEY);
      return value === "light" || value === "dark" ? value : "auto";
    } catch (e) {
      return "auto";
    }
  }

  // "auto" follows the system setting, resolved here so the stylesheet has one dark palette.
  var systemDark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function applyTheme(theme) {
    if (theme !== "light" && theme !== "dark") {
      theme = systemDark && systemDark.matches ? "dark" : "light";
    }
    document.documentElement.setAttribute("data-theme", theme);
  }

  applyTheme(storedTheme());
  if (systemDark && systemDark.addEventListener) {
    systemDark.addEventListener("change", function () {
      applyTheme(storedTheme());
    });
  }

  // ---------------------------------------------------------------------------------------
  // Constants

  var API = "/admin/api";
  var CSRF_HEADER = "X-Requested-With";
  var CSRF_VALUE = "poe2openai-admin";
  var NAME_PATTERN = /^[A-Za-z0-9._:/@+-]+$/;
  var NAME_MAX = 200;
  var REASONING_CHOICES = [
    ["", "Default (reasoning_content)"],
    ["reasoning_content", "reasoning_content: thinking in its own field"],
    ["think_tags", "think_tags: thinking in <think> tags"],
    ["content", "content: thinking left in the answer"],
    ["drop", "drop: thinking removed"],
  ];
  var TOOLS_CHOICES = [
    ["", "Default (from Poe's features)"],
    ["native", "native: Poe's tool calls"],
    ["prompt", "prompt: tools described in the prompt"],
    ["off", "off: tools refused"],
  ];
  var OPTION_FIELDS = ["replace_response", "reask_invalid_output", "reasoning", "tools", "parameters"];

  // ---------------------------------------------------------------------------------------
  // State

  var state = {
    revision: null,
    saved: {}, // the configuration as last loaded or saved
    config: {}, // the working copy the page edits
    problem: null,
    models: null, // AdminModel[] from /admin/api/models, null when it could not be loaded
    modelsError: null,
    stale: false,
    filter: "all",
    search: "",
    expanded: Object.create(null), // row key -> true when its options are open
    invalid: Object.create(null), // param -> message, for fields the page refuses to apply
    rows: [],
    busy: false,
    loaded: false,
  };

  var ui = {}; // elements of index.html, by id

  // ---------------------------------------------------------------------------------------
  // Small helpers

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function hasOwn(obj, key) {
    return Object.prototype.hasOwnProperty.call(obj, key);
  }

  function clone(value) {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  }

  // Sets obj[key] as an own data property, even for keys such as "__proto__".
  function put(obj, key, value) {
    Object.defineProperty(obj, key, {
      value: value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }

  // JSON with sorted keys: two configurations that differ only in key order are equal.
  function canonical(value) {
    if (Array.isArray(value)) {
      return "[" + value.map(canonical).join(",") + "]";
    }
    if (isObject(value)) {
      return (
        "{" +
        Object.keys(value)
          .sort()
          .map(function (key) {
            return JSON.stringify(key) + ":" + canonical(value[key]);
          })
          .join(",") +
        "}"
      );
    }
    return JSON.stringify(value === undefined ? null : value);
  }

  // Builds an element. attrs: "class", "text" (textContent), "on<event>" (listener), anything
  // else via setAttribute. Children are nodes or strings (appended as text, never parsed).
  // A text input bound to one optional string setting: an empty field removes the setting.
  function textField(row, name, value, attrs, store) {
    var input = h("input", Object.assign(
      { type: "text", class: "input", maxlength: String(NAME_MAX), autocomplete: "off" }, attrs));
    input.value = typeof value === "string" ? value : "";
    row.fields[name] = {};
    input.addEventListener("input", function () {
      clearFieldServerError(row, name);
      store(input.value === "" ? undefined : input.value);
      changed();
    });
    return input;
  }

  function h(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = String(value);
        else if (key.slice(0, 2) === "on" && typeof value === "function") {
          node.addEventListener(key.slice(2), value);
        } else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      node.append(child);
    }
    return node;
  }

  function text(value) {
    return typeof value === "string" ? value : value === null || value === undefined ? "" : String(value);
  }

  function formatCompact(n) {
    try {
      return new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 }).format(n);
    } catch (e) {
      return String(n);
    }
  }

  function formatMoney(perToken) {
    var n = typeof perToken === "number" ? perToken : parseFloat(perToken);
    if (!isFinite(n)) return null;
    var perMillion = n * 1e6;
    var digits = perMillion >= 100 ? 0 : perMillion >= 1 ? 2 : perMillion >= 0.01 ? 3 : 4;
    // Round away float noise (0.0000026 * 1e6 = 2.5999999999999996).
    return "$" + (Math.round(perMillion * 1e6) / 1e6).toFixed(digits);
  }

  function priceCell(pricing) {
    if (!isObject(pricing)) return { label: "—", title: "No price listed" };
    var input = hasOwn(pricing, "prompt") ? formatMoney(pricing.prompt) : null;
    var output = hasOwn(pricing, "completion") ? formatMoney(pricing.completion) : null;
    var details = Object.keys(pricing)
      .map(function (key) {
        return key + ": " + text(pricing[key]) + " per token";
      })
      .join("\n");
    if (input === null && output === null) {
      return { label: Object.keys(pricing).length ? "see details" : "—", title: details || "No price listed" };
    }
    return {
      label: (input || "—") + " / " + (output || "—"),
      title: "Per million tokens: input " + (input || "—") + ", output " + (output || "—") + "\n" + details,
    };
  }

  // ---------------------------------------------------------------------------------------
  // API

  function ApiFailure(status, message, param, code, retryAfter) {
    this.status = status;
    this.message = message;
    this.param = param || null;
    this.code = code || null;
    this.retryAfter = retryAfter || null;
  }

  function request(method, path, options) {
    options = options || {};
    var headers = { Accept: "application/json" };
    if (method !== "GET") headers[CSRF_HEADER] = CSRF_VALUE;
    if (options.revision) headers["If-Match"] = options.revision;
    var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    // Absolute, from location.origin (which has no user:password@): opened as
    // http://user:pw@host/admin, relative URLs resolve against a base holding the credentials,
    // and fetch() refuses such URLs. The browser still sends the credentials it signed in with.
    return fetch(window.location.origin + API + path, init).then(
      function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            if (response.ok) {
              return { data: data, etag: response.headers.get("ETag") };
            }
            var error = isObject(data) && isObject(data.error) ? data.error : {};
            throw new ApiFailure(
              response.status,
              typeof error.message === "string" ? error.message : "HTTP " + response.status,
              typeof error.param === "string" ? error.param : null,
              typeof error.code === "string" ? error.code : null,
              response.headers.get("Retry-After")
            );
          });
      },
      function (err) {
        throw new ApiFailure(0, "The service could not be reached (" + text(err && err.message) + ").");
      }
    );
  }

  // A sentence for failures every call can meet (credentials, throttling, network).
  function describeFailure(err, what) {
    if (!(err instanceof ApiFailure)) {
      return what + ": " + text(err && err.message ? err.message : err);
    }
    if (err.status === 401) {
      return "Your admin credentials were not accepted. Reload the page to sign in again.";
    }
    if (err.status === 429) {
      return (
        "Too many failed logins from your address" +
        (err.retryAfter ? ": try again in " + err.retryAfter + " s." : "; try again later.")
      );
    }
    if (err.status === 0) return what + ": " + err.message;
    return what + ": " + err.message;
  }

  // ---------------------------------------------------------------------------------------
  // Messages

  function showMessage(kind, message, options) {
    options = options || {};
    ui.message.hidden = false;
    ui.message.className = "message message-" + kind;
    ui.message.setAttribute("data-kind", kind);
    ui.message.setAttribute("role", kind === "error" ? "alert" : "status");
    ui["message-text"].textContent = message;
    ui["message-reload"].hidden = !options.reload;
  }

  function clearMessage() {
    ui.message.hidden = true;
    ui.message.removeAttribute("data-kind");
    ui["message-text"].textContent = "";
    ui["message-reload"].hidden = true;
  }

  // ---------------------------------------------------------------------------------------
  // The configuration: reading and editing

  function configModels() {
    return isObject(state.config.models) ? state.config.models : null;
  }

  // The key of a Poe model's entry in config.models (ids match case-insensitively), or null.
  function entryKey(id) {
    var models = configModels();
    if (!models) return null;
    if (hasOwn(models, id)) return id;
    var lower = id.toLowerCase();
    var keys = Object.keys(models);
    for (var i = 0; i < keys.length; i++) {
      if (keys[i].toLowerCase() === lower) return keys[i];
    }
    return null;
  }

  function settingsOf(id) {
    var key = entryKey(id);
    if (key === null) return {};
    var entry = state.config.models[key];
    return isObject(entry) ? entry : {};
  }

  // An emptied top-level collection (`models`, `custom_models`) is removed, unless the file
  // had it empty (or null) already: then it goes back to exactly that.
  function isEmptyCollection(value) {
    return value === null || (Array.isArray(value) ? value.length === 0 : isObject(value) && Object.keys(value).length === 0);
  }

  function settleEmpty(name) {
    if (!hasOwn(state.config, name) || !isEmptyCollection(state.config[name])) return;
    if (hasOwn(state.saved, name) && isEmptyCollection(state.saved[name])) {
      put(state.config, name, clone(state.saved[name]));
    } else {
      delete state.config[name];
    }
  }

  // Sets (value !== undefined) or removes one setting of a Poe model. A model left with no
  // settings is removed from `models`.
  function setSetting(id, name, value) {
    var key = entryKey(id);
    if (value === undefined) {
      if (key === null) return;
      var entry = state.config.models[key];
      if (isObject(entry)) {
        delete entry[name];
        if (Object.keys(entry).length === 0) delete state.config.models[key];
      }
      settleEmpty("models");
      return;
    }
    if (!isObject(state.config.models)) put(state.config, "models", {});
    if (key === null) {
      key = id;
      put(state.config.models, key, {});
    } else if (!isObject(state.config.models[key])) {
      put(state.config.models, key, {});
    }
    put(state.config.models[key], name, value);
  }

  function removeEntry(id) {
    var key = entryKey(id);
    if (key === null) return;
    delete state.config.models[key];
    settleEmpty("models");
  }

  function customModels() {
    return Array.isArray(state.config.custom_models) ? state.config.custom_models : [];
  }

  function setCustomField(index, name, value) {
    var model = customModels()[index];
    if (!isObject(model)) return;
    if (value === undefined) delete model[name];
    else put(model, name, value);
  }

  function isDirty() {
    return canonical(state.config) !== canonical(state.saved) || Object.keys(state.invalid).length > 0;
  }

  function overlayEnabled() {
    return state.config.enable !== false;
  }

  // ---------------------------------------------------------------------------------------
  // Validation of single fields

  function checkName(value, what) {
    if (value.length > NAME_MAX) return what + " must be at most " + NAME_MAX + " characters.";
    if (!NAME_PATTERN.test(value)) {
      return what + " may only use letters, digits and . _ : / @ + - (no spaces).";
    }
    return null;
  }

  // Other names clients see (aliases and custom ids), lower-case, except the one being edited.
  function takenNames(exceptPoeId, exceptCustomIndex) {
    var taken = Object.create(null);
    var models = configModels() || {};
    Object.keys(models).forEach(function (key) {
      var entry = models[key];
      if (exceptPoeId !== null && key.toLowerCase() === exceptPoeId.toLowerCase()) return;
      if (isObject(entry) && typeof entry.mapping === "string" && entry.mapping) {
        taken[entry.mapping.toLowerCase()] = "the alias of " + key;
      }
    });
    customModels().forEach(function (model, i) {
      if (i === exceptCustomIndex || !isObject(model) || typeof model.id !== "string") return;
      taken[model.id.toLowerCase()] = "a custom model";
    });
    return taken;
  }

  // ---------------------------------------------------------------------------------------
  // Field errors and highlighting

  function setFieldError(field, message) {
    if (!field) return;
    var input = field.input;
    if (message) {
      input.classList.add("is-invalid");
      input.setAttribute("aria-invalid", "true");
      if (field.error) {
        field.error.textContent = message;
        field.error.hidden = false;
      }
    } else {
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-invalid");
      if (field.error) {
        field.error.textContent = "";
        field.error.hidden = true;
      }
    }
  }

  function setInvalid(param, message) {
    if (message) state.invalid[param] = message;
    else delete state.invalid[param];
  }

  function clearServerHighlight() {
    var marked = document.querySelectorAll("[data-server-error]");
    for (var i = 0; i < marked.length; i++) {
      var node = marked[i];
      node.removeAttribute("data-server-error");
      node.classList.remove("is-invalid", "row-error");
      node.removeAttribute("aria-invalid");
    }
    state.rows.forEach(function (row) {
      Object.keys(row.fields).forEach(function (name) {
        var field = row.fields[name];
        if (field.serverError && field.error) {
          field.error.textContent = "";
          field.error.hidden = true;
          field.serverError = false;
        }
      });
    });
  }

  // Finds the row and field a server `param` names: "enable", "models.<poe id>.<field>[...]",
  // "custom_models[<i>].<field>". Poe ids contain dots, so the longest matching key wins.
  function locateParam(param) {
    if (typeof param !== "string" || !param) return null;
    if (param === "enable") return { overlay: true };
    var custom = /^custom_models\[(\d+)\](?:\.([A-Za-z_]+))?/.exec(param);
    if (custom) {
      var index = parseInt(custom[1], 10);
      for (var i = 0; i < state.rows.length; i++) {
        if (state.rows[i].kind === "custom" && state.rows[i].index === index) {
          return { row: state.rows[i], field: custom[2] || null };
        }
      }
      return null;
    }
    if (param.slice(0, 7) !== "models.") return null;
    var rest = param.slice(7);
    var best = null;
    var bestLength = -1;
    state.rows.forEach(function (row) {
      if (row.kind !== "poe") return;
      var key = entryKey(row.id) || row.id;
      if ((rest === key || rest.slice(0, key.length + 1) === key + ".") && key.length > bestLength) {
        best = row;
        bestLength = key.length;
      }
    });
    if (!best) return null;
    var field = rest.length > bestLength ? rest.slice(bestLength + 1).split(/[.[]/)[0] : null;
    return { row: best, field: field };
  }

  function highlightParam(param, message) {
    var place = locateParam(param);
    if (!place) return false;
    if (place.overlay) {
      ui["overlay-enable"].setAttribute("data-server-error", "");
      ui["overlay-enable"].classList.add("is-invalid");
      ui["overlay-enable"].focus();
      return true;
    }
    var row = place.row;
    // Make sure the row can be seen: a filter or search that hides it is reset.
    if (row.tr.hidden) {
      setFilter("all");
      ui.search.value = "";
      state.search = "";
      applyFilter();
    }
    var field = place.field ? row.fields[place.field] : null;
    if (field && OPTION_FIELDS.indexOf(place.field) >= 0) setExpanded(row, true);
    row.tr.classList.add("row-error");
    row.tr.setAttribute("data-server-error", "");
    if (field) {
      setFieldError(field, message);
      field.serverError = true;
      field.input.setAttribute("data-server-error", "");
      field.input.scrollIntoView({ block: "center" });
      field.input.focus();
    } else {
      row.tr.scrollIntoView({ block: "center" });
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // Rendering

  function refreshChrome() {
    var dirty = isDirty();
    ui["dirty-indicator"].hidden = !dirty;
    ui.save.disabled = state.busy || !state.loaded || !dirty;
    ui.discard.disabled = state.busy || !dirty;
    ui.refresh.disabled = state.busy;
    document.body.classList.toggle("is-dirty", dirty);
    ui["overlay-enable"].checked = overlayEnabled();
    document.body.classList.toggle("overlay-off", !overlayEnabled());
    document.title = (dirty ? "• " : "") + "poe2openai admin";
  }

  function changed() {
    state.rows.forEach(updateRowState);
    refreshChrome();
  }

  function renderStatus(status) {
    ui["status-version"].textContent = text(status.version) || "—";
    ui["status-config-dir"].textContent = text(status.config_dir) || "—";
    ui["status-key"].textContent = status.poe_api_key ? text(status.poe_api_key) : "not set (the list is fetched without a key)";
  }

  function renderListFacts() {
    var facts = ui["status-list"];
    if (state.models === null) {
      facts.textContent = "unavailable";
    } else {
      var poe = state.models.filter(function (m) {
        return m.source === "poe";
      }).length;
      facts.textContent = poe + " Poe models" + (state.stale ? " (stale)" : "");
    }
    ui.stale.hidden = !state.stale;
    ui.problem.hidden = !state.problem;
    ui.problem.textContent = state.problem
      ? "models.yaml could not be read: " + state.problem + " Saving a valid configuration repairs it."
      : "";
  }

  function rowKey(row) {
    return row.kind + ":" + (row.kind === "custom" ? String(row.index) : row.id.toLowerCase());
  }

  function collectRows() {
    var rows = [];
    var seen = Object.create(null);
    (state.models || []).forEach(function (m) {
      if (!isObject(m) || m.source !== "poe" || typeof m.id !== "string") return;
      seen[m.id.toLowerCase()] = true;
      rows.push({ kind: "poe", id: m.id, info: m });
    });
    // Settings for models Poe's list lacks (renamed or retired bots): shown so they can be
    // seen and cleared.
    var models = configModels() || {};
    Object.keys(models).forEach(function (key) {
      if (seen[key.toLowerCase()]) return;
      seen[key.toLowerCase()] = true;
      rows.push({ kind: "poe", id: key, info: null, missing: true });
    });
    customModels().forEach(function (model, index) {
      rows.push({ kind: "custom", index: index, id: isObject(model) ? text(model.id) : "", info: null });
    });
    return rows;
  }

  function buildRows() {
    var body = ui["models-body"];
    body.replaceChildren();
    state.rows = collectRows();
    state.rows.forEach(function (row) {
      row.key = rowKey(row);
      row.fields = {};
      if (row.kind === "custom") buildCustomRow(row);
      else buildPoeRow(row);
      body.append(row.tr);
      if (row.optsTr) body.append(row.optsTr);
      updateRowState(row);
      if (state.expanded[row.key]) setExpanded(row, true);
    });
    // The inputs now show the working configuration, which only ever holds accepted values:
    // refused input typed before is gone, and so are its errors.
    state.invalid = Object.create(null);
    ui.loading.hidden = true;
    applyFilter();
    refreshChrome();
  }

  function cssEscape(value) {
    return window.CSS && CSS.escape ? CSS.escape(value) : value.replace(/["\\]/g, "\\$&");
  }

  function fieldWrap(field, label, input, hint) {
    field.input = input;
    field.error = h("span", { class: "field-error", "data-testid": "field-error", hidden: true });
    return h("div", { class: "cell-field" }, label ? h("span", { class: "cell-label", text: label }) : null, input, hint || null, field.error);
  }

  function modelCell(row, info) {
    var cell = h("td", { class: "col-model", "data-label": "Model" });
    var title = h("div", { class: "model-title" }, h("span", { class: "model-id mono", "data-testid": "model-id", text: row.id }));
    if (row.kind === "custom") title.append(h("span", { class: "badge badge-custom", text: "custom" }));
    if (row.missing) {
      title.append(
        h("span", {
          class: "badge badge-warn",
          text: state.models === null ? "list unavailable" : "not in Poe's list",
          title: "Settings exist for this id, but Poe's model list does not have it.",
        })
      );
    }
    row.aliasBadge = h("span", { class: "badge badge-alias", "data-testid": "alias-badge", hidden: true });
    title.append(row.aliasBadge);
    row.hiddenBadge = h("span", { class: "badge badge-muted", "data-testid": "hidden-badge", text: "hidden", hidden: true });
    title.append(row.hiddenBadge);
    cell.append(title);
    if (info) {
      var name = text(info.name);
      if (name && name !== row.id) cell.append(h("div", { class: "model-name", "data-testid": "model-name", text: name }));
      var description = text(info.description);
      if (description) {
        cell.append(h("div", { class: "model-desc", "data-testid": "model-description", title: description, text: description }));
      }
      var features = Array.isArray(info.supported_features) ? info.supported_features : [];
      if (features.length) {
        var list = h("div", { class: "chips chips-features" });
        features.forEach(function (feature) {
          list.append(h("span", { class: "chip chip-feature", text: text(feature) }));
        });
        cell.append(list);
      }
    }
    return cell;
  }

  function infoCells(info) {
    var owner = h("td", { class: "col-owner", "data-label": "Owner", text: info && info.owned_by ? text(info.owned_by) : "—" });
    var modalities = info && Array.isArray(info.input_modalities) ? info.input_modalities : [];
    var input = h("td", { class: "col-input", "data-label": "Input" });
    if (modalities.length) {
      var chips = h("div", { class: "chips" });
      modalities.forEach(function (m) {
        chips.append(h("span", { class: "chip", text: text(m) }));
      });
      input.append(chips);
    } else {
      input.textContent = "—";
    }
    var length = info && typeof info.context_length === "number" ? info.context_length : null;
    var context = h("td", {
      class: "col-context num",
      "data-label": "Context",
      title: length === null ? null : length.toLocaleString("en") + " tokens",
      text: length === null ? "—" : formatCompact(length),
    });
    var price = priceCell(info ? info.pricing : null);
    var priceTd = h("td", { class: "col-price num", "data-label": "Price / 1M", "data-testid": "price", title: price.title, text: price.label });
    return [owner, input, context, priceTd];
  }

  function buildPoeRow(row) {
    var info = row.info;
    var id = row.id;
    var settings = settingsOf(id);
    var param = function (name) {
      return "models." + (entryKey(id) || id) + "." + name;
    };

    // Shown toggle
    var shown = h("input", {
      type: "checkbox",
      class: "switch-input",
      "data-testid": "shown-toggle",
      "data-param": param("enable"),
      "aria-label": "Show " + id + " in /v1/models",
    });
    shown.checked = settings.enable !== false;
    shown.addEventListener("change", function () {
      clearFieldServerError(row, "enable");
      setSetting(id, "enable", shown.checked ? undefined : false);
      changed();
    });
    row.fields.enable = { input: shown };
    var shownTd = h(
      "td",
      { class: "col-shown", "data-label": "Shown" },
      h("label", { class: "switch switch-compact" }, shown, h("span", { class: "switch-track", "aria-hidden": "true" }))
    );

    // Alias
    var alias = h("input", {
      type: "text",
      class: "input",
      "data-testid": "alias-input",
      "data-param": param("mapping"),
      maxlength: String(NAME_MAX),
      placeholder: id,
      autocomplete: "off",
      spellcheck: "false",
      "aria-label": "Alias of " + id,
    });
    alias.value = typeof settings.mapping === "string" ? settings.mapping : "";
    row.fields.mapping = {};
    alias.addEventListener("input", function () {
      clearFieldServerError(row, "mapping");
      var value = alias.value.trim();
      var problem = null;
      if (value) {
        problem = checkName(value, "An alias");
        if (!problem && value.toLowerCase() !== id.toLowerCase()) {
          var owner = takenNames(id, -1)[value.toLowerCase()];
          if (owner) problem = "“" + value + "” is already " + owner + ".";
        }
      }
      setFieldError(row.fields.mapping, problem);
      setInvalid(alias.getAttribute("data-param"), problem);
      if (!problem) setSetting(id, "mapping", value || undefined);
      changed();
    });
    var aliasTd = h("td", { class: "col-alias", "data-label": "Alias" }, fieldWrap(row.fields.mapping, null, alias));

    // Display name
    var display = textField(row, "display_name", settings.display_name, {
      "data-testid": "display-name-input",
      "data-param": param("display_name"),
      placeholder: info && info.name ? text(info.name) : "",
      "aria-label": "Display name of " + id,
    }, function (value) {
      setSetting(id, "display_name", value);
    });
    var displayTd = h("td", { class: "col-display", "data-label": "Display name" }, fieldWrap(row.fields.display_name, null, display));

    // Options toggle
    row.optionsButton = h("button", {
      type: "button",
      class: "btn btn-small btn-options",
      "data-testid": "options-toggle",
      "aria-expanded": "false",
      "aria-label": "Options of " + id,
      text: "Options",
      onclick: function () {
        setExpanded(row, !state.expanded[row.key]);
      },
    });
    row.optionsCount = h("span", { class: "options-count", "data-testid": "options-count" });
    row.optionsButton.append(row.optionsCount);
    var optionsTd = h("td", { class: "col-options" }, row.optionsButton);

    row.tr = h(
      "tr",
      { class: "model-row", "data-testid": "model-row", "data-model-id": id, "data-source": "poe" },
      shownTd,
      modelCell(row, info)
    );
    infoCells(info).forEach(function (cell) {
      row.tr.append(cell);
    });
    row.tr.append(aliasTd, displayTd, optionsTd);
    row.optsTr = buildOptionsRow(row, settings, param);
  }

  function buildOptionsRow(row, settings, param) {
    var id = row.id;

    var replaceField = switchField(row, settings, param, "replace_response", "replace-response", "Replace response",
      "Hold a streamed answer back and send it once, exactly as the bot ends it.");
    var reaskField = switchField(row, settings, param, "reask_invalid_output", "reask-invalid-output", "Re-ask invalid JSON",
      "An answer asked for as JSON that does not match its schema is asked for once more (a second query: it costs points).");

    var reasoning = selectFor(REASONING_CHOICES, settings.reasoning, {
      "data-testid": "reasoning-select",
      "data-param": param("reasoning"),
    });
    row.fields.reasoning = {};
    reasoning.addEventListener("change", function () {
      clearFieldServerError(row, "reasoning");
      setSetting(id, "reasoning", reasoning.value === "" ? undefined : reasoning.value);
      changed();
    });
    var reasoningField = fieldWrap(row.fields.reasoning, "Reasoning", reasoning, h("span", { class: "hint", text: "How the bot's thinking is returned." }));

    var tools = selectFor(TOOLS_CHOICES, settings.tools, { "data-testid": "tools-select", "data-param": param("tools") });
    row.fields.tools = {};
    tools.addEventListener("change", function () {
      clearFieldServerError(row, "tools");
      setSetting(id, "tools", tools.value === "" ? undefined : tools.value);
      changed();
    });
    var toolsField = fieldWrap(row.fields.tools, "Tools", tools, h("span", { class: "hint", text: "How tool calls are handled." }));

    var parameters = h("textarea", {
      class: "input mono",
      rows: "4",
      spellcheck: "false",
      "data-testid": "parameters-input",
      "data-param": param("parameters"),
      placeholder: '{"web_search": true}',
      "aria-label": "Default Poe parameters of " + id,
    });
    parameters.value = settings.parameters !== undefined ? JSON.stringify(settings.parameters, null, 2) : "";
    row.fields.parameters = {};
    parameters.addEventListener("input", function () {
      clearFieldServerError(row, "parameters");
      var raw = parameters.value.trim();
      var problem = null;
      var value;
      if (raw) {
        try {
          value = JSON.parse(raw);
          if (!isObject(value)) problem = 'Parameters must be a JSON object, such as {"web_search": true}.';
        } catch (e) {
          problem = "Not valid JSON: " + text(e.message);
        }
      }
      setFieldError(row.fields.parameters, problem);
      setInvalid(parameters.getAttribute("data-param"), problem);
      if (!problem) setSetting(id, "parameters", raw ? value : undefined);
      changed();
    });
    var parametersField = fieldWrap(
      row.fields.parameters,
      "Parameters (JSON)",
      parameters,
      h("span", { class: "hint", text: "Default Poe parameters for this bot, merged under the client's." })
    );
    parametersField.classList.add("cell-field-wide");

    var reset = h("button", {
      type: "button",
      class: "btn btn-small btn-danger-quiet",
      "data-testid": "reset-model",
      text: "Clear all settings of this model",
      onclick: function () {
        removeEntry(id);
        Object.keys(state.invalid).forEach(function (p) {
          if (p.slice(0, ("models." + id + ".").length).toLowerCase() === ("models." + id + ".").toLowerCase()) delete state.invalid[p];
        });
        buildRows();
        showMessage("info", "Settings of " + id + " cleared. Press Save to apply.");
      },
    });

    var panel = h(
      "div",
      { class: "options-panel" },
      h("div", { class: "options-grid" }, replaceField, reaskField, reasoningField, toolsField, parametersField),
      h("div", { class: "options-actions" }, reset)
    );
    return h(
      "tr",
      { class: "options-row", "data-testid": "options-row", "data-model-id": id, hidden: true },
      h("td", { colspan: "9" }, panel)
    );
  }

  // A per-model on/off setting: true when checked, absent (the default, off) otherwise.
  function switchField(row, settings, param, name, testid, label, hint) {
    var box = h("input", { type: "checkbox", "data-testid": testid, "data-param": param(name) });
    box.checked = settings[name] === true;
    row.fields[name] = {};
    box.addEventListener("change", function () {
      clearFieldServerError(row, name);
      setSetting(row.id, name, box.checked ? true : undefined);
      changed();
    });
    var field = fieldWrap(
      row.fields[name],
      null,
      h("label", { class: "check" }, box, h("span", { text: label })),
      h("span", { class: "hint", text: hint })
    );
    row.fields[name].input = box;
    return field;
  }

  function selectFor(choices, current, attrs) {
    var select = h("select", Object.assign({ class: "input" }, attrs));
    var known = false;
    choices.forEach(function (choice) {
      select.append(h("option", { value: choice[0], text: choice[1] }));
      if (choice[0] === current) known = true;
    });
    if (current !== undefined && current !== null && !known) {
      // A value this page does not know (a hand edit): kept as it is unless changed.
      select.append(h("option", { value: text(current), text: text(current) + " (unknown)" }));
    }
    select.value = current === undefined || current === null ? "" : text(current);
    return select;
  }

  function buildCustomRow(row) {
    var index = row.index;
    var model = customModels()[index] || {};
    var param = function (name) {
      return "custom_models[" + index + "]." + name;
    };

    var shownTd = h(
      "td",
      { class: "col-shown", "data-label": "Shown" },
      h("span", { class: "always-shown", title: "Custom models are always listed", text: "always" })
    );

    var owner = textField(row, "owned_by", model.owned_by, {
      "data-testid": "custom-owner-input",
      "data-param": param("owned_by"),
      placeholder: "custom",
      "aria-label": "Owner of " + row.id,
    }, function (value) {
      setCustomField(index, "owned_by", value);
    });
    var ownerTd = h("td", { class: "col-owner", "data-label": "Owner" }, fieldWrap(row.fields.owned_by, null, owner));

    var display = textField(row, "display_name", model.display_name, {
      "data-testid": "display-name-input",
      "data-param": param("display_name"),
      "aria-label": "Display name of " + row.id,
    }, function (value) {
      setCustomField(index, "display_name", value);
    });

    var remove = h("button", {
      type: "button",
      class: "btn btn-small btn-danger-quiet",
      "data-testid": "remove-custom",
      "aria-label": "Remove custom model " + row.id,
      text: "Remove",
      onclick: function () {
        var list = customModels();
        list.splice(index, 1);
        settleEmpty("custom_models");
        Object.keys(state.invalid).forEach(function (p) {
          if (p.indexOf("custom_models[") === 0) delete state.invalid[p];
        });
        buildRows();
        showMessage("info", "Custom model " + row.id + " removed. Press Save to apply.");
      },
    });

    var idCell = modelCell(row, null);
    row.fields.id = { input: idCell.querySelector("[data-testid=model-id]") };
    row.tr = h(
      "tr",
      { class: "model-row is-custom", "data-testid": "model-row", "data-model-id": row.id, "data-source": "custom" },
      shownTd,
      idCell,
      ownerTd,
      h("td", { class: "col-input", "data-label": "Input", text: "—" }),
      h("td", { class: "col-context num", "data-label": "Context", text: "—" }),
      h("td", { class: "col-price num", "data-label": "Price / 1M", text: "—" }),
      h("td", { class: "col-alias muted", "data-label": "Alias", title: "A custom model is listed under its id", text: "—" }),
      h("td", { class: "col-display", "data-label": "Display name" }, fieldWrap(row.fields.display_name, null, display)),
      h("td", { class: "col-options" }, remove)
    );
    row.optsTr = null;
  }

  function clearFieldServerError(row, name) {
    var field = row.fields[name];
    if (field && field.serverError) {
      setFieldError(field, null);
      field.serverError = false;
      field.input.removeAttribute("data-server-error");
    }
    if (row.tr.hasAttribute("data-server-error")) {
      row.tr.classList.remove("row-error");
      row.tr.removeAttribute("data-server-error");
    }
  }

  function setExpanded(row, open) {
    if (!row.optsTr) return;
    if (open) state.expanded[row.key] = true;
    else delete state.expanded[row.key];
    row.optionsButton.setAttribute("aria-expanded", open ? "true" : "false");
    row.tr.classList.toggle("is-expanded", open);
    row.optsTr.hidden = !open || row.tr.hidden;
  }

  // Badges and classes that follow the working configuration.
  function updateRowState(row) {
    if (row.kind !== "poe") return;
    var settings = settingsOf(row.id);
    var hidden = settings.enable === false;
    var alias = typeof settings.mapping === "string" ? settings.mapping : "";
    row.tr.classList.toggle("is-hidden-model", hidden);
    row.hiddenBadge.hidden = !hidden;
    row.aliasBadge.hidden = !alias;
    row.aliasBadge.textContent = alias ? "as " + alias : "";
    var count = OPTION_FIELDS.filter(function (name) {
      return hasOwn(settings, name);
    }).length;
    row.optionsCount.textContent = count ? " (" + count + ")" : "";
  }

  // ---------------------------------------------------------------------------------------
  // Filtering

  function rowMatches(row) {
    var settings = row.kind === "poe" ? settingsOf(row.id) : {};
    switch (state.filter) {
      case "shown":
        if (row.kind === "poe" && settings.enable === false) return false;
        break;
      case "hidden":
        if (row.kind !== "poe" || settings.enable !== false) return false;
        break;
      case "aliased":
        if (row.kind !== "poe" || !(typeof settings.mapping === "string" && settings.mapping)) return false;
        break;
      case "custom":
        if (row.kind !== "custom") return false;
        break;
      default:
        break;
    }
    var query = state.search.trim().toLowerCase();
    if (!query) return true;
    var haystack = [row.id];
    if (row.info) haystack.push(text(row.info.name), text(row.info.owned_by), text(row.info.description));
    if (row.kind === "poe") haystack.push(text(settings.mapping), text(settings.display_name));
    else {
      var model = customModels()[row.index] || {};
      haystack.push(text(model.display_name), text(model.owned_by));
    }
    return haystack.join("\n").toLowerCase().indexOf(query) >= 0;
  }

  function applyFilter() {
    var visible = 0;
    state.rows.forEach(function (row) {
      var match = rowMatches(row);
      row.tr.hidden = !match;
      if (row.optsTr) row.optsTr.hidden = !match || !state.expanded[row.key];
      if (match) visible++;
    });
    var total = state.rows.length;
    ui["model-count"].textContent = visible === total ? String(total) : visible + " of " + total;
    ui.empty.hidden = !state.loaded || visible > 0;
    ui.empty.textContent = total === 0 ? "No models yet." : "No model matches.";
  }

  function setFilter(name) {
    state.filter = name;
    var buttons = ui.filters.querySelectorAll("[data-filter]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", buttons[i].getAttribute("data-filter") === name ? "true" : "false");
    }
  }

  // ---------------------------------------------------------------------------------------
  // Loading and saving

  function acceptDocument(doc, etag) {
    if (!isObject(doc)) throw new ApiFailure(0, "The service answered with an unexpected document.");
    state.revision = typeof doc.revision === "string" ? doc.revision : etag;
    state.saved = isObject(doc.config) ? doc.config : {};
    state.config = clone(state.saved);
    state.problem = typeof doc.problem === "string" && doc.problem ? doc.problem : null;
    state.invalid = Object.create(null);
  }

  function loadModels() {
    return request("GET", "/models").then(
      function (result) {
        var data = isObject(result.data) && Array.isArray(result.data.data) ? result.data.data : [];
        state.models = data;
        state.stale = !!(isObject(result.data) && result.data.stale);
        state.modelsError = null;
      },
      function (err) {
        state.models = null;
        state.stale = false;
        state.modelsError = err;
      }
    );
  }

  function loadStatus() {
    return request("GET", "/status").then(
      function (result) {
        if (isObject(result.data)) renderStatus(result.data);
      },
      function () {
        ui["status-version"].textContent = "unavailable";
      }
    );
  }

  function setBusy(busy) {
    state.busy = busy;
    document.body.classList.toggle("is-busy", busy);
    refreshChrome();
  }

  // Loads everything from the server; edits not saved are dropped.
  function loadAll() {
    setBusy(true);
    var configLoad = request("GET", "/config").then(function (result) {
      acceptDocument(result.data, result.etag);
    });
    return Promise.all([
      configLoad.then(
        function () {
          return null;
        },
        function (err) {
          return err;
        }
      ),
      loadModels(),
      loadStatus(),
    ]).then(function (results) {
      var configError = results[0];
      setBusy(false);
      if (configError) {
        state.loaded = false;
        ui.loading.hidden = true;
        showMessage("error", describeFailure(configError, "The configuration could not be loaded"), { reload: true });
        refreshChrome();
        return false;
      }
      state.loaded = true;
      renderListFacts();
      buildRows();
      if (state.modelsError) {
        showMessage("error", describeFailure(state.modelsError, "Poe's model list could not be loaded"));
      }
      return true;
    });
  }

  function save() {
    if (state.busy || !state.loaded) return;
    var invalid = Object.keys(state.invalid);
    if (invalid.length) {
      showMessage("error", "Not saved: fix the highlighted field first (" + state.invalid[invalid[0]] + ")");
      var first = document.querySelector('[data-param="' + cssEscape(invalid[0]) + '"]');
      if (first) {
        var row = state.rows.filter(function (r) {
          return r.tr.contains(first) || (r.optsTr && r.optsTr.contains(first));
        })[0];
        if (row && row.optsTr && row.optsTr.contains(first)) setExpanded(row, true);
        if (row && row.tr.hidden) {
          setFilter("all");
          ui.search.value = "";
          state.search = "";
          applyFilter();
        }
        first.focus();
      }
      return;
    }
    if (!isDirty()) return;
    clearServerHighlight();
    setBusy(true);
    showMessage("info", "Saving…");
    request("PUT", "/config", { body: state.config, revision: state.revision })
      .then(function (result) {
        acceptDocument(result.data, result.etag);
        return loadModels().then(function () {
          setBusy(false);
          renderListFacts();
          buildRows();
          loadStatus();
          showMessage("success", "Saved. /v1/models shows the new settings now.");
        });
      })
      .catch(function (err) {
        setBusy(false);
        if (!(err instanceof ApiFailure)) {
          showMessage("error", "Not saved: " + text(err && err.message));
          return;
        }
        if (err.status === 400) {
          var where = highlightParam(err.param, err.message);
          showMessage(
            "error",
            "Not saved: " + err.message + (where || !err.param ? "" : " (" + err.param + ")")
          );
        } else if (err.status === 409 || err.status === 412) {
          showMessage(
            "error",
            "Not saved: someone else changed the configuration since you loaded it. Your edits are still shown; " +
              "note them, then reload from the server and apply them again.",
            { reload: true }
          );
        } else if (err.status === 507) {
          showMessage("error", "Not saved: " + err.message + " Your edits are still here: try again.");
        } else if (err.status === 403) {
          showMessage("error", "Not saved: the request was refused as cross-site (" + err.message + ").");
        } else {
          showMessage("error", "Not saved. " + describeFailure(err, "Error"));
        }
      });
  }

  function discard() {
    if (state.busy) return;
    state.config = clone(state.saved);
    state.invalid = Object.create(null);
    clearServerHighlight();
    buildRows();
    showMessage("info", "Changes discarded.");
  }

  function refreshFromPoe() {
    if (state.busy) return;
    setBusy(true);
    showMessage("info", "Fetching Poe's model list…");
    request("POST", "/models/refresh")
      .then(function (result) {
        var count = isObject(result.data) ? result.data.count : null;
        return loadModels().then(function () {
          setBusy(false);
          renderListFacts();
          buildRows(); // rows come from the working configuration: edits are kept
          if (state.modelsError) {
            showMessage("error", describeFailure(state.modelsError, "Poe's model list could not be loaded"));
          } else {
            showMessage("success", "Fetched " + (typeof count === "number" ? count : "the") + " models from Poe.");
          }
        });
      })
      .catch(function (err) {
        setBusy(false);
        showMessage("error", describeFailure(err, "Poe's model list could not be fetched"));
      });
  }

  function addCustom(event) {
    event.preventDefault();
    var idInput = ui["custom-id"];
    var id = idInput.value.trim();
    var name = ui["custom-name"].value;
    var owner = ui["custom-owner"].value.trim();
    var problem = null;
    if (!id) problem = "Enter the bot's id.";
    else problem = checkName(id, "The id");
    if (!problem) {
      var takenBy = takenNames(null, -1)[id.toLowerCase()];
      if (takenBy) problem = "“" + id + "” is already " + takenBy + ".";
    }
    if (!problem && state.models) {
      var clash = state.models.filter(function (m) {
        return m.source === "poe" && typeof m.id === "string" && m.id.toLowerCase() === id.toLowerCase();
      })[0];
      if (clash) problem = "Poe already lists “" + clash.id + "”: it needs no custom entry.";
    }
    ui["custom-error"].hidden = !problem;
    ui["custom-error"].textContent = problem || "";
    idInput.classList.toggle("is-invalid", !!problem);
    if (problem) {
      idInput.setAttribute("aria-invalid", "true");
      idInput.focus();
      return;
    }
    idInput.removeAttribute("aria-invalid");
    var model = {};
    put(model, "id", id);
    put(model, "created", Math.floor(Date.now() / 1000));
    if (owner) put(model, "owned_by", owner);
    if (name) put(model, "display_name", name);
    if (!Array.isArray(state.config.custom_models)) put(state.config, "custom_models", []);
    state.config.custom_models.push(model);
    ui["custom-form"].reset();
    buildRows();
    showMessage("info", "Custom model " + id + " added. Press Save to apply.");
  }

  // ---------------------------------------------------------------------------------------
  // Start

  function init() {
    [
      "dirty-indicator", "discard", "save", "theme", "message", "message-text", "message-reload",
      "message-close", "status-version", "status-config-dir", "status-key", "status-list",
      "overlay-enable", "problem", "stale", "refresh", "search", "filters", "models-body",
      "model-count", "empty", "loading", "custom-form", "custom-id", "custom-name",
      "custom-owner", "custom-error",
    ].forEach(function (id) {
      ui[id] = document.getElementById(id);
    });

    ui.theme.value = storedTheme();
    ui.theme.addEventListener("change", function () {
      var theme = ui.theme.value;
      try {
        if (theme === "auto") window.localStorage.removeItem(THEME_KEY);
        else window.localStorage.setItem(THEME_KEY, theme);
      } catch (e) {
        /* storage off: the choice lasts for this page only */
      }
      applyTheme(theme);
    });

    ui.save.addEventListener("click", save);
    ui.discard.addEventListener("click", discard);
    ui.refresh.addEventListener("click", refreshFromPoe);
    ui["message-close"].addEventListener("click", clearMessage);
    ui["message-reload"].addEventListener("click", function () {
      clearMessage();
      loadAll().then(function (ok) {
        if (ok) showMessage("info", "Reloaded the configuration from the server.");
      });
    });
    ui["overlay-enable"].addEventListener("change", function () {
      ui["overlay-enable"].classList.remove("is-invalid");
      ui["overlay-enable"].removeAttribute("data-server-error");
      if (ui["overlay-enable"].checked) {
        if (hasOwn(state.saved, "enable") && state.saved.enable === true) put(state.config, "enable", true);
        else delete state.config.enable;
      } else {
        put(state.config, "enable", false);
      }
      changed();
    });
    ui.search.addEventListener("input", function () {
      state.search = ui.search.value;
      applyFilter();
    });
    ui.filters.addEventListener("click", function (event) {
      var button = event.target.closest("[data-filter]");
      if (!button) return;
      setFilter(button.getAttribute("data-filter"));
      applyFilter();
    });
    ui["custom-form"].addEventListener("submit", addCustom);
    ui["custom-id"].addEventListener("input", function () {
      ui["custom-error"].hidden = true;
      ui["custom-id"].classList.remove("is-invalid");
      ui["custom-id"].removeAttribute("aria-invalid");
    });

    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && (event.key === "s" || event.key === "S")) {
        event.preventDefault();
        save();
      }
    });
    window.addEventListener("beforeunload", function (event) {
      if (isDirty()) {
        event.preventDefault();
        event.returnValue = "";
      }
    });

    loadAll();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
