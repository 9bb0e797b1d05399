"""Numba kernels of PatchMatch image completion: the hot loops, nothing else.

Why numba: PatchMatch propagation is inherently sequential (each pixel reuses the match its
scan-order neighbour just found), which a vectorised torch/numpy version can only approximate
with many more, smaller parallel steps; compiled loops also allow early termination of the patch
distance. Measured against torch and numpy in docs/benchmarks.md (section "patchmatch engine").
Every kernel is compiled once (``cache=True`` keeps the machine code on disk between runs).

Conventions: a *target* is a pixel whose patch overlaps the hole (its match is searched); a
*source* is a patch centre in one of K source images (the crop itself plus optional rotated /
scaled / mirrored copies), valid when its whole patch is known and inside the sampling area.
Patch costs are mean squared differences per pixel (all channels summed), so patches clipped
by the crop's border compare fairly with whole ones.

Channels: images are (..., C) with C >= 3. Channels 0-2 are the colours (the only ones colour
adaptation and clamping to [0, 1] apply to); channels 3.. are extra features (e.g. texture
features, pre-scaled by their weight) compared and voted like colours but copied as they are.
The colour loops keep their constant bound of 3 so the compiled 3-channel path stays as fast as
before; the feature loops are empty when C == 3.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_BIG = np.float32(1e30)
#: weight of the squared bias in the colour-adapted cost (0: free bias within its bound)
_BIAS_PENALTY = 0.0


@njit(cache=True)
def seed_rng(seed: int) -> None:
    """Seed numba's own RNG (separate from numpy's global one)."""
    np.random.seed(seed)


@njit(cache=True, fastmath=True)
def patch_cost(tgt, ty, tx, src, k, sy, sx, r, adapt, gmin, gmax, bmax, bound, ab, fw=1.0):
    """Cost of matching the target patch at (ty, tx) with source patch (k, sy, sx).

    Without colour adaptation: plain SSD, abandoned once it exceeds ``bound``. With it: the
    least-squares per-channel gain/bias (clamped to [gmin, gmax] and +-bmax) is applied to the
    source first; ``ab`` receives (gain0..2, bias0..2). ``fw`` scales the extra channels' SSD
    (the texture features' weight for this target, see ``feature_weights`` in completion.py);
    with ``fw == 0`` the feature channels are not read at all (edge and scratch targets cost what
    they cost without features; the result is the same).
    """
    h, w = tgt.shape[0], tgt.shape[1]
    y0 = max(ty - r, 0) - ty
    y1 = min(ty + r, h - 1) - ty
    x0 = max(tx - r, 0) - tx
    x1 = min(tx + r, w - 1) - tx
    n = (y1 - y0 + 1) * (x1 - x0 + 1)
    nc = tgt.shape[2] if fw > 0.0 else 3
    if not adapt:
        limit = bound * n
        acc = 0.0
        for dy in range(y0, y1 + 1):
            for dx in range(x0, x1 + 1):
                for c in range(3):
                    d = tgt[ty + dy, tx + dx, c] - src[k, sy + dy, sx + dx, c]
                    acc += d * d
                for c in range(3, nc):
                    d = tgt[ty + dy, tx + dx, c] - src[k, sy + dy, sx + dx, c]
                    acc += fw * d * d
            if acc > limit:
                return _BIG
        for c in range(3):
            ab[c] = 1.0
            ab[3 + c] = 0.0
        return acc / n
    if gmax <= gmin:
        return _bias_cost(tgt, ty, tx, src, k, sy, sx, y0, y1, x0, x1, n, bmax, bound, ab, fw)
    st = np.zeros(3)
    ss = np.zeros(3)
    stt = np.zeros(3)
    sss = np.zeros(3)
    sts = np.zeros(3)
    extra = 0.0
    for dy in range(y0, y1 + 1):
        for dx in range(x0, x1 + 1):
            for c in range(3):
                a = np.float64(tgt[ty + dy, tx + dx, c])
                b = np.float64(src[k, sy + dy, sx + dx, c])
                st[c] += a
                ss[c] += b
                stt[c] += a * a
                sss[c] += b * b
                sts[c] += a * b
            for c in range(3, nc):
                d = np.float64(tgt[ty + dy, tx + dx, c]) - np.float64(src[k, sy + dy, sx + dx, c])
                extra += d * d
    total = fw * extra
    for c in range(3):
        mt = st[c] / n
        ms = ss[c] / n
        var_s = sss[c] / n - ms * ms
        cov = sts[c] / n - mt * ms
        g = 1.0
        if gmax > gmin:
            g = cov / (var_s + 1e-4)
            g = min(max(g, gmin), gmax)
        b = mt - g * ms
        b = min(max(b, -bmax), bmax)
        err = stt[c] - 2 * g * sts[c] - 2 * b * st[c] + g * g * sss[c] + 2 * g * b * ss[c] + n * b * b
        total += max(err, 0.0)
        ab[c] = g
        ab[3 + c] = b
    return total / n


@njit(cache=True, fastmath=True)
def _bias_term(s1, s2, n, bmax, ab, c):
    """One channel's share of the bias-only cost (and its bias written to ``ab``)."""
    # the bias is shrunk toward 0 (and its square charged): a free bias would let flat
    # patches match textured targets as well as textured ones do, and the fill goes flat
    b = min(max(s1 / (n * (1.0 + _BIAS_PENALTY)), -bmax), bmax)
    ab[c] = 1.0
    ab[3 + c] = b
    return max(s2 - 2.0 * b * s1 + n * b * b * (1.0 + _BIAS_PENALTY), 0.0)


@njit(cache=True, fastmath=True)
def _bias_cost(tgt, ty, tx, src, k, sy, sx, y0, y1, x0, x1, n, bmax, bound, ab, fw):
    """Cost with a per-channel bias only (colour adaptation "low"), with early termination.

    For any bias b, the sum of (d - b)^2 over the rows seen so far is at least their own variance
    term sum(d^2) - (sum d)^2 / m, so a candidate is dropped as soon as that exceeds the bound.
    """
    limit = bound * n
    nc = tgt.shape[2] if fw > 0.0 else 3
    # per-channel sums as scalars, not np.zeros(3) arrays: two heap allocations per candidate were
    # a large share of a sweep's time (the arithmetic, and so the result, is the same)
    s10 = 0.0
    s11 = 0.0
    s12 = 0.0
    s20 = 0.0
    s21 = 0.0
    s22 = 0.0
    extra = 0.0
    m = 0
    for dy in range(y0, y1 + 1):
        # the rows as views, indexed with unsigned offsets: no negative-index wrap-around per read
        trow = tgt[ty + dy]
        srow = src[k, sy + dy]
        for dx in range(x0, x1 + 1):
            tj = np.uintp(tx + dx)
            sj = np.uintp(sx + dx)
            d = np.float64(trow[tj, np.uintp(0)]) - np.float64(srow[sj, np.uintp(0)])
            s10 += d
            s20 += d * d
            d = np.float64(trow[tj, np.uintp(1)]) - np.float64(srow[sj, np.uintp(1)])
            s11 += d
            s21 += d * d
            d = np.float64(trow[tj, np.uintp(2)]) - np.float64(srow[sj, np.uintp(2)])
            s12 += d
            s22 += d * d
            for c in range(3, nc):
                d = np.float64(trow[tj, c]) - np.float64(srow[sj, c])
                extra += d * d
        m += x1 - x0 + 1
        low = fw * extra
        low += s20 - s10 * s10 / m
        low += s21 - s11 * s11 / m
        low += s22 - s12 * s12 / m
        if low > limit:
            return _BIG
    total = fw * extra
    total += _bias_term(s10, s20, n, bmax, ab, 0)
    total += _bias_term(s11, s21, n, bmax, ab, 1)
    total += _bias_term(s12, s22, n, bmax, ab, 2)
    return total / n


@njit(cache=True)
def random_init(ys, nk, ny, nx, vk, vy, vx):
    """Every target gets a uniformly random valid source."""
    m = vk.shape[0]
    for i in range(ys.shape[0]):
        j = np.random.randint(0, m)
        nk[i] = vk[j]
        ny[i] = vy[j]
        nx[i] = vx[j]


@njit(cache=True)
def evaluate_all(tgt, ys, xs, src, nk, ny, nx, cost, ab, r, adapt, gmin, gmax, bmax, fw):
    """Recompute every target's cost against the current estimate (after voting or upsampling).

    ``fw`` (per target) weighs the extra channels' SSD.
    """
    tmp = np.zeros(6, np.float32)
    for i in range(ys.shape[0]):
        cost[i] = patch_cost(tgt, ys[i], xs[i], src, nk[i], ny[i], nx[i], r, adapt, gmin, gmax, bmax,
                             _BIG, tmp, fw[i])
        ab[i, :] = tmp


@njit(cache=True)
def _try(tgt, i, y, x, src, valid, k, sy, sx, nk, ny, nx, cost, ab, r, adapt, gmin, gmax, bmax, tmp, fw):
    hs, ws = valid.shape[1], valid.shape[2]
    if sy < 0 or sx < 0 or sy >= hs or sx >= ws or not valid[k, sy, sx]:
        return
    if k == nk[i] and sy == ny[i] and sx == nx[i]:
        return
    c = patch_cost(tgt, y, x, src, k, sy, sx, r, adapt, gmin, gmax, bmax, cost[i], tmp, fw[i])
    if c < cost[i]:
        cost[i] = c
        nk[i] = k
        ny[i] = sy
        nx[i] = sx
        ab[i, :] = tmp


@njit(cache=True)
def pm_pass(tgt, ys, xs, tidx, src, valid, vk, vy, vx, nk, ny, nx, cost, ab, r, reverse,
            adapt, gmin, gmax, bmax, n_global, max_radius, fw):
    """One PatchMatch sweep: propagation from the two scan-order neighbours, then random search.

    ``n_global`` extra candidates per target are drawn from the list of valid sources, so a small
    or distant sampling area is still found quickly. ``max_radius`` (> 0) caps the random search:
    on upsampled levels the layout is already found, and local refinement is what is left.
    """
    n = ys.shape[0]
    h, w = tidx.shape
    nsrc = vk.shape[0]
    hs, ws = valid.shape[1], valid.shape[2]
    step = -1 if reverse else 1
    tmp = np.zeros(6, np.float32)
    for ii in range(n):
        i = n - 1 - ii if reverse else ii
        y = ys[i]
        x = xs[i]
        # propagation: the neighbour already visited in this sweep, shifted by one pixel
        qx = x - step
        if 0 <= qx < w:
            j = tidx[y, qx]
            if j >= 0:
                _try(tgt, i, y, x, src, valid, nk[j], ny[j], nx[j] + step, nk, ny, nx, cost, ab, r,
                     adapt, gmin, gmax, bmax, tmp, fw)
        qy = y - step
        if 0 <= qy < h:
            j = tidx[qy, x]
            if j >= 0:
                _try(tgt, i, y, x, src, valid, nk[j], ny[j] + step, nx[j], nk, ny, nx, cost, ab, r,
                     adapt, gmin, gmax, bmax, tmp, fw)
        # random search around the current best, halving the radius
        rad = max(hs, ws)
        if max_radius > 0:
            rad = min(rad, max_radius)
        while rad >= 1:
            k = nk[i]
            sy = ny[i] + np.random.randint(-rad, rad + 1)
            sx = nx[i] + np.random.randint(-rad, rad + 1)
            _try(tgt, i, y, x, src, valid, k, sy, sx, nk, ny, nx, cost, ab, r, adapt, gmin, gmax, bmax, tmp,
                 fw)
            rad //= 2
        for _ in range(n_global):
            j = np.random.randint(0, nsrc)
            _try(tgt, i, y, x, src, valid, vk[j], vy[j], vx[j], nk, ny, nx, cost, ab, r,
                 adapt, gmin, gmax, bmax, tmp, fw)


@njit(cache=True, fastmath=True)
def vote(est, hole, ys, xs, src, nk, ny, nx, cost, ab, wconf, r, inv_two_sigma2, winner):
    """Expectation-maximisation vote: each hole pixel becomes the weighted mean of the source pixels
    that the patches covering it propose. Weight = boundary confidence x patch similarity.

    ``winner``: instead take the single proposal of the highest weight (Newson et al. 2014's final
    reconstruction): averaging misaligned texture blurs it, the best patch keeps it sharp.
    """
    h, w = hole.shape
    nc = est.shape[2]
    n = ys.shape[0]
    if n == 0:
        return
    # accumulate only over the hole pixels the targets' patches reach (an index into compact
    # buffers over their bounding box), not over whole-crop buffers: zeroing and scanning
    # (h, w, nc) float64 arrays cost more than the votes themselves on thin or small holes.
    # Each pixel still sums its proposals in the same order, so the result is the same
    y0 = h
    y1 = -1
    x0 = w
    x1 = -1
    for i in range(n):
        y0 = min(y0, ys[i])
        y1 = max(y1, ys[i])
        x0 = min(x0, xs[i])
        x1 = max(x1, xs[i])
    y0 = max(y0 - r, 0)
    y1 = min(y1 + r, h - 1)
    x0 = max(x0 - r, 0)
    x1 = min(x1 + r, w - 1)
    bh = y1 - y0 + 1
    bw = x1 - x0 + 1
    slot = np.empty((bh, bw), np.int32)
    m = 0
    for y in range(bh):
        for x in range(bw):
            if hole[y0 + y, x0 + x]:
                slot[y, x] = m
                m += 1
            else:
                slot[y, x] = -1
    acc = np.zeros((m, nc))
    wsum = np.zeros(m)
    for i in range(n):
        wt = wconf[i] * np.exp(-cost[i] * inv_two_sigma2)
        if wt <= 0.0:
            continue
        y = ys[i]
        x = xs[i]
        k = nk[i]
        sy = ny[i]
        sx = nx[i]
        g0 = ab[i, 0]
        g1 = ab[i, 1]
        g2 = ab[i, 2]
        b0 = ab[i, 3]
        b1 = ab[i, 4]
        b2 = ab[i, 5]
        for dy in range(-r, r + 1):
            py = y + dy
            if py < 0 or py >= h:
                continue
            srow = src[k, sy + dy]
            srow_slot = slot[py - y0]
            for dx in range(-r, r + 1):
                px = x + dx
                if px < 0 or px >= w:
                    continue
                q = srow_slot[np.uintp(px - x0)]
                if q < 0:
                    continue
                sp = np.uintp(sx + dx)
                if winner:
                    if wt > wsum[q]:
                        wsum[q] = wt
                        acc[q, 0] = g0 * srow[sp, np.uintp(0)] + b0
                        acc[q, 1] = g1 * srow[sp, np.uintp(1)] + b1
                        acc[q, 2] = g2 * srow[sp, np.uintp(2)] + b2
                        for c in range(3, nc):
                            acc[q, c] = srow[sp, c]
                    continue
                acc[q, 0] += wt * (g0 * srow[sp, np.uintp(0)] + b0)
                acc[q, 1] += wt * (g1 * srow[sp, np.uintp(1)] + b1)
                acc[q, 2] += wt * (g2 * srow[sp, np.uintp(2)] + b2)
                for c in range(3, nc):
                    acc[q, c] += wt * srow[sp, c]
                wsum[q] += wt
    for y in range(bh):
        for x in range(bw):
            q = slot[y, x]
            if q >= 0 and wsum[q] > 0.0:
                for c in range(3):
                    v = acc[q, c] if winner else acc[q, c] / wsum[q]
                    est[y0 + y, x0 + x, c] = min(max(v, 0.0), 1.0)
                for c in range(3, nc):
                    v = acc[q, c] if winner else acc[q, c] / wsum[q]
                    est[y0 + y, x0 + x, c] = max(v, 0.0)


@njit(cache=True, fastmath=True)
def _known_ssd(est, filled, ty, tx, src, k, sy, sx, r, bound, total):
    """Mean squared difference over the already-filled pixels of the target patch only.

    ``total``: how many of them there are (the same for every candidate, see _filled_count).
    Abandoned (_BIG) once the rows seen so far already reach a mean of ``bound``: the sum only
    grows, so such a candidate could not have won (the same picks as without abandoning).
    """
    if total == 0:
        return _BIG
    h, w = filled.shape
    nc = est.shape[2]
    acc = 0.0
    n = 0
    for dy in range(-r, r + 1):
        yy = ty + dy
        if yy < 0 or yy >= h:
            continue
        for dx in range(-r, r + 1):
            xx = tx + dx
            if xx < 0 or xx >= w or not filled[yy, xx]:
                continue
            for c in range(3):
                d = est[yy, xx, c] - src[k, sy + dy, sx + dx, c]
                acc += d * d
            for c in range(3, nc):
                d = est[yy, xx, c] - src[k, sy + dy, sx + dx, c]
                acc += d * d
            n += 1
        if acc / total >= bound:
            return _BIG
    return acc / n


@njit(cache=True)
def _filled_count(filled, ty, tx, r):
    """Filled pixels in the patch around (ty, tx) (clipped at the image's border)."""
    h, w = filled.shape
    n = 0
    for yy in range(max(ty - r, 0), min(ty + r + 1, h)):
        for xx in range(max(tx - r, 0), min(tx + r + 1, w)):
            if filled[yy, xx]:
                n += 1
    return n


@njit(cache=True)
def onion_init(est, hole, src, vk, vy, vx, r, max_candidates):
    """Fill the (small, coarsest-level) hole from its edge inwards, one ring at a time.

    Each pixel takes the centre of the source patch that best matches the pixels already known or
    filled around it (an exhaustive search over up to ``max_candidates`` sources, plus the shifted
    matches of its filled neighbours). Unlike a diffusion start, this begins from real texture,
    so the coarse-to-fine EM does not settle on the smooth patches a blurry start attracts.
    """
    h, w = hole.shape
    filled = ~hole
    my = np.full((h, w), -1, np.int32)
    mx = np.full((h, w), -1, np.int32)
    mk = np.zeros((h, w), np.int32)
    nsrc = vk.shape[0]
    stride = max(1, nsrc // max_candidates)
    hs, ws = src.shape[1], src.shape[2]
    remaining = 0
    for y in range(h):
        for x in range(w):
            if hole[y, x]:
                remaining += 1
    ring_y = np.empty(h * w, np.int32)
    ring_x = np.empty(h * w, np.int32)
    while remaining > 0:
        m = 0
        for y in range(h):
            for x in range(w):
                if filled[y, x]:
                    continue
                edge = False
                for dy in range(-1, 2):
                    for dx in range(-1, 2):
                        yy = y + dy
                        xx = x + dx
                        if 0 <= yy < h and 0 <= xx < w and filled[yy, xx]:
                            edge = True
                if edge:
                    ring_y[m] = y
                    ring_x[m] = x
                    m += 1
        if m == 0:
            break
        for i in range(m):
            y = ring_y[i]
            x = ring_x[i]
            best = _BIG
            bk = vk[0]
            by = vy[0]
            bx = vx[0]
            offset = np.random.randint(0, stride)
            total = _filled_count(filled, y, x, r)
            for j in range(offset, nsrc, stride):
                c = _known_ssd(est, filled, y, x, src, vk[j], vy[j], vx[j], r, best, total)
                if c < best:
                    best = c
                    bk = vk[j]
                    by = vy[j]
                    bx = vx[j]
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    yy = y + dy
                    xx = x + dx
                    if yy < 0 or xx < 0 or yy >= h or xx >= w or my[yy, xx] < 0:
                        continue
                    k = mk[yy, xx]
                    sy = my[yy, xx] - dy
                    sx = mx[yy, xx] - dx
                    if sy < r or sx < r or sy >= hs - r or sx >= ws - r:
                        continue
                    c = _known_ssd(est, filled, y, x, src, k, sy, sx, r, best, total)
                    if c < best:
                        best = c
                        bk = k
                        by = sy
                        bx = sx
            for c in range(est.shape[2]):
                est[y, x, c] = src[bk, by, bx, c]
            mk[y, x] = bk
            my[y, x] = by
            mx[y, x] = bx
            filled[y, x] = True
            remaining -= 1
