// @ts-check
// The Duplicates dialog: clusters of duplicates by confidence with their evidence; "Merge all N
// clusters above <score>" in one batch with progress, a cluster that cannot be merged skipped
// with its reason; groups of versions of one work apart (merge keeping the published one, or
// link as related); "Not duplicates", remembered by the daemon; Zotero 10's undo.

/**
 * @typedef {object} SDDuplicatesOptions
 * @property {(title: string, text: string) => boolean} confirm
 * @property {number} [minScore]  the lowest pair score asked of the daemon (its default: 0.9)
 */
/**
 * @typedef {object} SDCard  one cluster or version group on screen
 * @property {DuplicateCluster} cluster
 * @property {HTMLElement} node
 * @property {HTMLElement} status
 * @property {HTMLElement} actions
 * @property {"open" | "merged" | "related" | "distinct" | "skipped"} state
 * @property {object | null} undo  Zotero 10's undo entry of its merge
 */
/**
 * @typedef {object} SDDuplicatesScreen  what the view's parts share
 * @property {SDViewHost} host
 * @property {Document} doc
 * @property {SDDuplicatesOptions} options
 * @property {SDCard[]} cards
 * @property {() => void} refresh  redraw what depends on the cards' states (the bulk button)
 */

var SDDuplicatesView = {
  /** The bulk merge's threshold when the dialog opens. */
  BULK_SCORE: 0.95,

  /**
   * Fill root with the daemon's clusters and version groups.
   * @param {SDViewHost} host
   * @param {Document} doc
   * @param {HTMLElement} root
   * @param {SDDuplicatesOptions} options
   */
  async render(host, doc, root, options) {
    const again = () => SDDuplicatesView.render(host, doc, root, options);
    SDRender.state(doc, root, "loading", { title: "Looking for duplicates…" });
    /** @type {DuplicatesResponse} */
    let data;
    try {
      data = await host.client().duplicates({ minScore: options.minScore });
    } catch (e) {
      SDViews.error(doc, root, e, "duplicates", again);
      return;
    }
    const clusters = Array.isArray(data.clusters) ? data.clusters : [];
    const versions = Array.isArray(data.versions) ? data.versions : [];
    if (!clusters.length && !versions.length) {
      SDRender.state(doc, root, "empty", {
        title: "No duplicates found.",
        text: "specter-desk found no likely duplicates and no versions of one work in your library.",
        buttons: [{ label: "Check again", onClick: again }],
      });
      return;
    }
    SDRender.clear(root);
    /** @type {SDDuplicatesScreen} */
    const screen = { host, doc, options, cards: [], refresh: () => {} };
    root.appendChild(SDRender.el(doc, "div", { cls: "sd-dup-top", attrs: { "data-sd-state": "clusters" } }, [
      SDRender.el(doc, "h2", { cls: "sd-heading", text: "Duplicates" }),
      SDRender.el(doc, "div", { cls: "sd-note", text: `${SDDuplicatesView.count(clusters.length, "cluster")} of duplicates and ${SDDuplicatesView.count(versions.length, "group")} of versions, most certain first.` }),
      SDRender.button(doc, "Check again", again, "sd-button sd-check-again"),
    ]));
    if (clusters.length) {
      const cards = clusters.map((c) => SDDuplicatesView.card(screen, { ...c, kind: "duplicates" }));
      root.appendChild(SDDuplicatesView.bulkBar(screen, cards));
      root.appendChild(SDRender.el(doc, "h3", { cls: "sd-subheading", text: "The same publication recorded more than once" }));
      root.appendChild(SDRender.el(doc, "ol", { cls: "sd-clusters" }, cards.map((c) => c.node)));
    }
    if (versions.length) {
      const cards = versions.map((c) => SDDuplicatesView.card(screen, { ...c, kind: "versions" }));
      root.appendChild(SDRender.el(doc, "h3", { cls: "sd-subheading", text: "Versions of one work (preprint, conference paper, journal article…)" }));
      root.appendChild(SDRender.el(doc, "div", { cls: "sd-note", text: "Merge them keeping the published one, or link them as related." }));
      root.appendChild(SDRender.el(doc, "ol", { cls: "sd-clusters sd-versions" }, cards.map((c) => c.node)));
    }
  },

  /**
   * "3 clusters", "1 group".
   * @param {number} n
   * @param {string} noun
   */
  count(n, noun) {
    return `${n} ${noun}${n === 1 ? "" : "s"}`;
  },

  /**
   * One cluster or version group: its papers (the one to keep marked), the evidence of each
   * pair, and its actions.
   * @param {SDDuplicatesScreen} screen
   * @param {DuplicateCluster} cluster
   * @returns {SDCard}
   */
  card(screen, cluster) {
    const { doc } = screen;
    const status = SDRender.el(doc, "div", { cls: "sd-merge-status", attrs: { role: "status" } });
    const actions = SDRender.el(doc, "div", { cls: "sd-buttons sd-card-actions" });
    const node = SDRender.el(doc, "li", { cls: "sd-cluster", attrs: { "data-cluster": String(cluster.id), "data-kind": cluster.kind || "duplicates", "data-state": "open" } });
    /** @type {SDCard} */
    const card = { cluster, node, status, actions, state: "open", undo: null };
    SDDuplicatesView.draw(screen, card);
    node.append(actions, status);
    screen.cards.push(card);
    return card;
  },

  /**
   * (Re)draw a card's head, papers and evidence, and its buttons for its state.
   * @param {SDDuplicatesScreen} screen
   * @param {SDCard} card
   */
  draw(screen, card) {
    const { doc } = screen;
    const { cluster } = card;
    const versions = cluster.kind === "versions";
    const drawn = /** @type {Element[]} */ ([...card.node.querySelectorAll(":scope > .sd-cluster-head, :scope > .sd-cluster-papers, :scope > .sd-evidence")]);
    for (const old of drawn) old.remove();
    const number = new Map(cluster.papers.map((p, i) => [p.key, i + 1]));
    const whyVersions = [...new Set((cluster.pairs || []).flatMap((p) => p.versions || []))];
    const head = SDRender.el(doc, "div", { cls: "sd-cluster-head" }, [
      SDRender.el(doc, "span", { cls: "sd-score", text: SDRender.formatScore(cluster.score), attrs: { title: "how sure specter-desk is that these are one work (the weakest link of the group)" } }),
      SDRender.el(doc, "span", { text: ` · ${cluster.papers.length} records` }),
      versions && whyVersions.length ? SDRender.el(doc, "span", { cls: "sd-why-versions", text: ` · versions: ${whyVersions.join("; ")}` }) : null,
      !versions && cluster.mixed_types ? SDRender.el(doc, "span", { cls: "sd-why-versions", text: " · item types differ" }) : null,
    ]);
    const papers = SDRender.el(doc, "ul", { cls: "sd-cluster-papers" }, cluster.papers.map((p) => SDDuplicatesView.paperRow(screen, card, p, number.get(p.key) || 0)));
    const pairs = (cluster.pairs || []).filter((p) => p.reasons && p.reasons.length);
    const evidence = SDRender.el(doc, "div", { cls: "sd-evidence" }, pairs.map((pair) => SDRender.el(doc, "div", {
      cls: "sd-reasons",
      text: cluster.papers.length > 2
        ? `${number.get(pair.a)} ↔ ${number.get(pair.b)} (${SDRender.formatScore(pair.score)}): ${pair.reasons.join("; ")}`
        : `Why: ${pair.reasons.join("; ")}`,
    })));
    card.node.prepend(head, papers, evidence);
    SDDuplicatesView.drawActions(screen, card);
  },

  /**
   * One paper of a card: number, title, author · year · type · venue · DOI, "kept" badge, and in
   * a cluster of three or more a "Not a duplicate" button for this one paper.
   * @param {SDDuplicatesScreen} screen
   * @param {SDCard} card
   * @param {DuplicatePaper} paper
   * @param {number} number
   */
  paperRow(screen, card, paper, number) {
    const { doc } = screen;
    const { cluster } = card;
    const kept = paper.key === cluster.master;
    const meta = [paper.first_author, paper.year, SDMerge.typeLabel(paper.item_type), paper.venue, paper.doi].filter(Boolean).join(" · ");
    const single = card.state === "open" && cluster.papers.length > 2
      ? SDRender.button(doc, "Not a duplicate", () => SDDuplicatesView.notThisOne(screen, card, paper), "sd-button sd-link sd-distinct-paper")
      : null;
    return SDRender.el(doc, "li", { cls: kept ? "sd-master" : "sd-other", attrs: { "data-key": paper.key } }, [
      SDRender.el(doc, "span", { cls: "sd-number", text: `${number}. ` }),
      SDRender.el(doc, "span", { cls: "sd-title", text: paper.title || paper.key }),
      kept ? SDRender.el(doc, "span", { cls: "sd-badge", text: cluster.kind === "versions" ? "kept (published)" : "kept (master)" }) : null,
      SDRender.el(doc, "div", { cls: "sd-meta", text: meta }),
      single,
    ]);
  },

  /**
   * The card's buttons for its state: Merge…, Link as related (versions), Not duplicates while
   * open; Undo merge after a merge Zotero can undo; Undo the mark after "Not duplicates".
   * @param {SDDuplicatesScreen} screen
   * @param {SDCard} card
   */
  drawActions(screen, card) {
    const { doc } = screen;
    const versions = card.cluster.kind === "versions";
    SDRender.clear(card.actions);
    card.node.setAttribute("data-state", card.state);
    if (card.state === "open" || card.state === "skipped") {
      card.actions.append(SDRender.button(doc, versions ? "Merge, keeping the published one…" : "Merge…", () => SDDuplicatesView.mergeOne(screen, card), "sd-button sd-merge"));
      if (versions) card.actions.append(SDRender.button(doc, "Link as related", () => SDDuplicatesView.relate(screen, card), "sd-button sd-relate"));
      card.actions.append(SDRender.button(doc, versions ? "Not the same work" : "Not duplicates", () => SDDuplicatesView.markDistinct(screen, card, true), "sd-button sd-distinct"));
    } else if (card.state === "merged" && card.undo) {
      card.actions.append(SDRender.button(doc, "Undo merge", () => SDDuplicatesView.undo(screen, [card]), "sd-button sd-undo"));
    } else if (card.state === "distinct") {
      card.actions.append(SDRender.button(doc, "Undo", () => SDDuplicatesView.markDistinct(screen, card, false), "sd-button sd-undo-distinct"));
    }
  },

  /**
   * @param {SDCard} card
   * @param {SDCard["state"]} state
   * @param {string} message
   * @param {SDDuplicatesScreen} screen
   */
  setState(screen, card, state, message) {
    card.state = state;
    card.status.textContent = message;
    SDDuplicatesView.draw(screen, card);
    screen.refresh();
  },

  /**
   * The confirmation text of a merge: what is kept, what goes, what changes type, why.
   * @param {DuplicateCluster} cluster
   * @param {SDMergePlan} plan
   */
  mergeText(cluster, plan) {
    const master = /** @type {Zotero.Item} */ (plan.master);
    const convert = plan.others.filter((o) => o.itemTypeID !== master.itemTypeID);
    const reasons = [...new Set((cluster.pairs || []).flatMap((p) => p.reasons || []))];
    const type = SDMerge.typeLabel(master.itemType);
    return `Merge ${plan.others.length} item(s) into “${master.getField("title")}”?\n\n`
      + `Kept: ${master.getField("title")} (${master.key}, ${type})\n`
      + plan.others.map((o) => `Merged into it: ${o.getField("title")} (${o.key}, ${SDMerge.typeLabel(o.itemType)})`).join("\n")
      + (convert.length ? `\n\n${convert.length} item(s) become a ${type} first; fields a ${type} has no place for go to their Extra field.` : "")
      + (cluster.kind === "versions" ? "" : "\n\nEmpty fields of the kept item are filled from the others.")
      + (reasons.length ? `\n\nWhy: ${reasons.join("; ")}` : "")
      + "\n\nZotero moves the others to the trash and keeps their notes, attachments, tags, collections and relations on the kept item."
      + (SDMerge.undoHistory() ? " Edit → Undo undoes the merge." : "");
  },

  /**
   * Merge one card after confirm().
   * @param {SDDuplicatesScreen} screen
   * @param {SDCard} card
   */
  async mergeOne(screen, card) {
    const plan = SDMerge.plan(card.cluster);
    if (plan.problem) {
      SDDuplicatesView.setState(screen, card, "skipped", `Cannot merge: ${plan.problem}`);
      return;
    }
    if (!screen.options.confirm("Merge duplicates", SDDuplicatesView.mergeText(card.cluster, plan))) {
      card.status.textContent = "Not merged.";
      return;
    }
    const result = await SDMerge.mergePlan(plan, card.cluster.kind === "versions" ? "versions" : "duplicates");
    card.undo = result.undo;
    SDDuplicatesView.setState(screen, card, result.merged ? "merged" : "skipped", result.merged ? result.message : `Cannot merge: ${result.message}`);
  },

  /**
   * @param {SDDuplicatesScreen} screen
   * @param {SDCard} card
   */
  async relate(screen, card) {
    const result = await SDMerge.relate(card.cluster);
    SDDuplicatesView.setState(screen, card, result.related ? "related" : "skipped", result.related ? result.message : `Cannot link them: ${result.message}`);
  },

  /**
   * "Not duplicates" for the whole card (every pair among its papers), or its undo.
   * @param {SDDuplicatesScreen} screen
   * @param {SDCard} card
   * @param {boolean} distinct
   */
  async markDistinct(screen, card, distinct) {
    const keys = card.cluster.papers.map((p) => p.key);
    await screen.host.client().markDistinct(keys, distinct);
    if (distinct) {
      SDDuplicatesView.setState(screen, card, "distinct", "Marked as not duplicates: specter-desk will not offer them together again.");
    } else {
      SDDuplicatesView.setState(screen, card, "open", "The mark is gone: they are offered again.");
    }
  },

  /**
   * "Not a duplicate" for one paper of a cluster of three or more: marks it apart from each of
   * the others (the others stay a cluster).
   * @param {SDDuplicatesScreen} screen
   * @param {SDCard} card
   * @param {DuplicatePaper} paper
   */
  async notThisOne(screen, card, paper) {
    const client = screen.host.client();
    const rest = card.cluster.papers.filter((p) => p.key !== paper.key);
    for (const other of rest) await client.markDistinct([paper.key, other.key], true);
    const pairs = (card.cluster.pairs || []).filter((p) => p.a !== paper.key && p.b !== paper.key);
    const master = card.cluster.master === paper.key ? rest[0].key : card.cluster.master;
    card.cluster = { ...card.cluster, papers: rest, pairs, master };
    const message = `Marked “${paper.title}” as not a duplicate of the others.`;
    SDDuplicatesView.setState(screen, card, rest.length < 2 ? "distinct" : "open", message);
  },

  /**
   * "Merge all N clusters above <score>": the threshold, the button, the progress and the
   * batch's undo.
   * @param {SDDuplicatesScreen} screen
   * @param {SDCard[]} cards
   */
  bulkBar(screen, cards) {
    const { doc } = screen;
    const lowest = screen.options.minScore ?? 0.9;
    const score = /** @type {HTMLInputElement} */ (SDRender.el(doc, "input", { cls: "sd-bulk-score", attrs: {
      type: "number", min: String(lowest), max: "1", step: "0.01", value: String(Math.max(lowest, SDDuplicatesView.BULK_SCORE)),
      "aria-label": "lowest score of the clusters to merge",
    } }));
    const progress = SDRender.el(doc, "progress", { cls: "sd-bulk-progress", attrs: { max: "1", value: "0", hidden: "hidden" } });
    const status = SDRender.el(doc, "div", { cls: "sd-bulk-status", attrs: { role: "status" } });
    const undo = SDRender.el(doc, "div", { cls: "sd-bulk-undo" });
    const threshold = () => {
      const value = Number.parseFloat(score.value);
      return Number.isFinite(value) ? value : 1;
    };
    const eligible = () => cards.filter((c) => c.state === "open" && c.cluster.score >= threshold());
    const run = SDRender.button(doc, "", async () => {
      const batch = eligible();
      if (!batch.length) return;
      const items = batch.reduce((n, c) => n + c.cluster.papers.length, 0);
      const mixed = batch.filter((c) => c.cluster.mixed_types).length;
      const steps = SDMerge.undoSteps();
      const text = `Merge ${SDDuplicatesView.count(batch.length, "cluster")} (${items} items) scoring ${SDRender.formatScore(threshold())} or more, each into its kept item?\n\n`
        + "Each cluster is one merge through Zotero's own merge: the others go to the trash, their notes, attachments, tags, collections and relations move to the kept item. A cluster that cannot be merged is skipped with its reason."
        + (mixed ? `\n\n${mixed} of them mix item types: those items take the kept item's type first; fields with no place in it go to their Extra field.` : "")
        + (steps ? `\n\nZotero can undo ${batch.length > steps ? `the last ${steps} of these merges` : "these merges"} (one undo step each) until something else is changed.` : "");
      if (!screen.options.confirm("Merge duplicates", text)) return;
      run.setAttribute("disabled", "true");
      score.setAttribute("disabled", "true");
      SDRender.clear(undo);
      progress.removeAttribute("hidden");
      progress.setAttribute("max", String(batch.length));
      progress.setAttribute("value", "0");
      status.textContent = `Merging 0 of ${batch.length}…`;
      const results = await SDMerge.mergeAll(batch.map((c) => c.cluster), (done, total, cluster, result) => {
        progress.setAttribute("value", String(done));
        status.textContent = `Merging ${done} of ${total}…`;
        const card = /** @type {SDCard} */ (batch.find((c) => c.cluster === cluster));
        card.undo = result.undo;
        SDDuplicatesView.setState(screen, card, result.merged ? "merged" : "skipped", result.merged ? result.message : `Skipped: ${result.message}`);
      });
      progress.setAttribute("hidden", "hidden");
      const merged = results.filter((r) => r.result.merged);
      const skipped = results.filter((r) => !r.result.merged);
      SDRender.clear(status);
      status.append(SDRender.el(doc, "div", { cls: "sd-bulk-summary", text: `Merged ${SDDuplicatesView.count(merged.length, "cluster")} (${merged.reduce((n, r) => n + r.cluster.papers.length, 0)} items); skipped ${skipped.length}.` }));
      if (skipped.length) {
        status.append(SDRender.el(doc, "ul", { cls: "sd-skipped" }, skipped.map((r) => {
          const title = `“${r.cluster.papers.find((p) => p.key === r.cluster.master)?.title ?? r.cluster.master}”`;
          // the reason names the record when it is about one
          return SDRender.el(doc, "li", { text: r.result.message.startsWith(title) ? r.result.message : `${title}: ${r.result.message}` });
        })));
      }
      const undoable = batch.filter((c) => c.state === "merged" && c.undo);
      if (undoable.length) {
        const lost = steps && merged.length > steps ? ` (Zotero keeps ${steps} undo steps: the first ${merged.length - steps} merges can only be restored from the trash)` : "";
        undo.append(
          SDRender.button(doc, `Undo these ${SDDuplicatesView.count(undoable.length, "merge")}`, async () => {
            await SDDuplicatesView.undo(screen, undoable, status);
            SDRender.clear(undo);
          }, "sd-button sd-bulk-undo-button"),
          SDRender.el(doc, "span", { cls: "sd-note", text: ` or Edit → Undo, one merge at a time${lost}.` }),
        );
      }
      score.removeAttribute("disabled");
      refresh();
    }, "sd-button sd-bulk-merge");
    const refresh = () => {
      const n = eligible().length;
      run.textContent = `Merge all ${SDDuplicatesView.count(n, "cluster")} above ${SDRender.formatScore(threshold())}`;
      if (n) run.removeAttribute("disabled");
      else run.setAttribute("disabled", "true");
    };
    score.addEventListener("input", refresh);
    screen.refresh = refresh;
    refresh();
    return SDRender.el(doc, "div", { cls: "sd-bulk" }, [
      SDRender.el(doc, "label", { cls: "sd-bulk-label", text: "Clusters scoring at least " }),
      score,
      run,
      progress,
      status,
      undo,
    ]);
  },

  /**
   * Undo merges of these cards with Zotero 10's undo (newest first).
   * @param {SDDuplicatesScreen} screen
   * @param {SDCard[]} cards  in the order they were merged
   * @param {HTMLElement} [status]  where the batch's answer goes
   */
  async undo(screen, cards, status) {
    const result = await SDMerge.undo(cards.map((c) => /** @type {object} */ (c.undo)));
    const undone = cards.slice(cards.length - result.undone);
    for (const card of undone) {
      card.undo = null;
      SDDuplicatesView.setState(screen, card, "open", "Merge undone: the items are back as they were.");
    }
    if (status) status.textContent = result.message;
    else if (!result.undone) cards[0].status.textContent = result.message;
  },
};
