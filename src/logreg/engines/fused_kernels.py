"""The fused kernels themselves, compiled by numba: ``logreg.engines.fused`` imports this module on
first use, and only where numba is installed (without it the NumPy path serves).

Every kernel and helper is a function of this module, not a closure: numba keys its cache on
the function's code and on the contents of its closure, and a closure over other compiled
functions gets a new key in every process (so every process compiled again, 1.3 to 3 s and 30
to 40 MB more peak memory, and wrote one more cache file). Module-level functions are looked up
as globals and compiled into their caller, so the four entry points (``cache=True``) compile
once per signature and every later process loads them from numba's cache (``__pycache__``
beside this file, or numba's own cache folder where that is read-only). numba's cache is
invalidated when this file changes, so whatever the kernels read (BLOCK, LOG_ROUNDS, FAST)
lives here.

- ``neuron_chunks``: the notes' neuron on dense X, four streams of examples side by side;
- ``layer_chunks``: the softmax layer (K classes) on dense X, blocks of BLOCK examples;
- ``sparse_neuron_chunks``, ``sparse_layer_chunks``: the same on CSR rows of sparse X.

Each computes chunks ``first`` to ``last`` (exclusive) in place and releases the GIL; the rest
(chunks, threads, checks, totals) is ``logreg.engines.fused``'s.
"""

import math

import numba
import numpy as np

BLOCK = 32  # K classes: examples whose Z, A and dZ are computed together, X's rows in cache;
# float32 X: examples whose share of dW is summed in float32 before it joins the float64 sums

LOG_ROUNDS = 8  # the neuron: rounds of four examples whose Σ log(1 + e) is one log

# the kernels' floating-point freedom: fused multiply-adds, and sums in any order (vectorised)
FAST = {"contract", "reassoc"}


@numba.njit(inline="always")
def logistic_terms(z, y, weight):
    """One example's share of the sums: its loss and its dz, from z."""
    # L = log(1 + eᶻ) − y z (the logistic loss from z), a = σ(z)
    e = math.exp(-abs(z))
    loss = max(z, 0.0) + math.log1p(e) - y * z
    a = 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
    # dz = a − y
    return weight * loss, weight * (a - y)


@numba.njit(fastmath=FAST)
def dot4(x0, x1, x2, x3, w, zero):
    """Four examples' wᵀx, summed in the dtype of ``zero`` (each w[j] loaded once for four
    products)."""
    z0 = z1 = z2 = z3 = zero
    for j in range(w.shape[0]):
        z0 += w[j] * x0[j]
        z1 += w[j] * x1[j]
        z2 += w[j] * x2[j]
        z3 += w[j] * x3[j]
    return z0, z1, z2, z3


@numba.njit(fastmath=FAST)
def add4(g, x0, x1, x2, x3, d):
    """g += x d for four examples (their dz in d; g[j] loaded and stored once for four)."""
    d0, d1, d2, d3 = d[0], d[1], d[2], d[3]
    for j in range(g.shape[0]):
        g[j] += d0 * x0[j] + d1 * x1[j] + d2 * x2[j] + d3 * x3[j]


@numba.njit(fastmath=FAST)
def flush_into(g, dw):
    """dw += g (a block's sums, in X's dtype), and g back to 0."""
    for j in range(dw.shape[0]):
        dw[j] += g[j]
        g[j] = 0.0


@numba.njit(inline="always")
def sigmoid_parts(z, y):
    """One example's e = exp(−|z|), dz = a − y (a = σ(z)) and max(z, 0) − y z."""
    e = math.exp(-abs(z))
    a = 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
    return e, a - y, max(z, 0.0) - y * z


@numba.njit(fastmath=FAST)
def four_losses(z0, z1, z2, z3, y, s, weighted, i0, i1, i2, i3, d, u):
    """Four examples' loss and dz (weighted): their dz written to d, (Σ loss, Σ dz)
    returned, but for no weights the log(1 + e) terms, which go to u[0] (u = Π (1 + e) − 1,
    the log taken once for many examples: a log costs as much as three exps)."""
    # L = log(1 + e) + max(z, 0) − y z with e = e^{−|z|}, a = σ(z), dz = a − y
    e0, d0, r0 = sigmoid_parts(z0, y[i0])
    e1, d1, r1 = sigmoid_parts(z1, y[i1])
    e2, d2, r2 = sigmoid_parts(z2, y[i2])
    e3, d3, r3 = sigmoid_parts(z3, y[i3])
    if weighted:
        d0, d1, d2, d3 = s[i0] * d0, s[i1] * d1, s[i2] * d2, s[i3] * d3
        d[0], d[1], d[2], d[3] = d0, d1, d2, d3
        return (s[i0] * (math.log1p(e0) + r0) + s[i1] * (math.log1p(e1) + r1)
                + s[i2] * (math.log1p(e2) + r2) + s[i3] * (math.log1p(e3) + r3),
                d0 + d1 + d2 + d3)
    d[0], d[1], d[2], d[3] = d0, d1, d2, d3
    # Σ log(1 + e) = log Π (1 + e): u + 1 ← (u + 1)(1 + e), all terms ≥ 0 (no cancellation)
    v = u[0]
    v = v + e0 + v * e0
    v = v + e1 + v * e1
    v = v + e2 + v * e2
    u[0] = v + e3 + v * e3
    return r0 + r1 + r2 + r3, d0 + d1 + d2 + d3


@numba.njit(fastmath=FAST)
def sweep(rows, i0, i1, i2, i3, w, g, d, zero):
    """One pass over the features for twelve examples: the next example of each stream (rows
    i + 1), z = wᵀx, read from memory; and the examples of the last two rounds (rows i − 1
    and i, their dz in d[:4] and d[4:]), g += x dz, from cache. Returns the four z.

    Reading the next examples in the same pass keeps memory busy; adding two rounds' x dz at
    once halves the loads and stores of g, which are what keep memory waiting (at one thread,
    a pass of z = wᵀx alone reads X at 1.03× the one-pass bound, with a store of g for each
    four examples at 1.25×, for each eight at 1.2×)."""
    a0, a1, a2, a3 = rows[i0 + 1], rows[i1 + 1], rows[i2 + 1], rows[i3 + 1]
    p0, p1, p2, p3 = rows[i0 - 1], rows[i1 - 1], rows[i2 - 1], rows[i3 - 1]
    x0, x1, x2, x3 = rows[i0], rows[i1], rows[i2], rows[i3]
    e0, e1, e2, e3, d0, d1, d2, d3 = d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
    z0 = z1 = z2 = z3 = zero
    for j in range(g.shape[0]):
        z0 += w[j] * a0[j]
        z1 += w[j] * a1[j]
        z2 += w[j] * a2[j]
        z3 += w[j] * a3[j]
        g[j] += (((e0 * p0[j] + e1 * p1[j]) + (e2 * p2[j] + e3 * p3[j]))
                 + ((d0 * x0[j] + d1 * x1[j]) + (d2 * x2[j] + d3 * x3[j])))
    return z0, z1, z2, z3


@numba.njit(fastmath=FAST)
def add_rest(g, rows, i0, i1, i2, i3, d, k):
    """A chunk's last round k: g += x dz for what is left, round k (and k − 1 if k is odd)."""
    if k % 2:
        add4(g, rows[i0 - 1], rows[i1 - 1], rows[i2 - 1], rows[i3 - 1], d)
    add4(g, rows[i0], rows[i1], rows[i2], rows[i3], d[4 * (k % 2):])


@numba.njit(fastmath=FAST, cache=True, nogil=True)
def neuron_chunks(rows, y, s, w, b, weighted, in_blocks, dw_parts, sums, first, last):
    """Chunks ``first`` to ``last`` (exclusive): their partial sums, in place (dw_parts[c]
    holds the chunk's dw, sums[c] its loss, Σ dz and Σ s).

    A chunk is read as four streams, its four quarters side by side (four streams keep more
    of memory's bandwidth busy than four neighbouring rows: 1.2× against 1.3× the bound), in
    rounds of one example of each: the four's loss and dz from z, then one pass over the
    features for the next four's z = wᵀx and, every other round, the last eight's dw += x dz
    (``sweep``). w comes in X's dtype: float32 X sums z = wᵀx in float32, as BLAS would;
    ``in_blocks`` (float32 X): dw += x dz is summed in float32 over BLOCK examples (no
    conversion of x to float64), then added to the float64 dw. The loss, dz and the sums over
    chunks are float64."""
    m, n = rows.shape
    size = (m + dw_parts.shape[0] - 1) // dw_parts.shape[0]
    zero = np.zeros(1, dtype=rows.dtype)[0]
    d = np.zeros(8, dtype=rows.dtype)  # dz of the last two rounds, in X's dtype
    u = np.zeros(1)  # Π (1 + e) − 1 over the rounds since the last log
    g = np.zeros(n if in_blocks else 0, dtype=rows.dtype)  # a block's dw, in X's dtype
    for c in range(first, last):
        dw = dw_parts[c]
        start, stop = c * size, min(m, (c + 1) * size)
        q = (stop - start) // 4  # each stream's examples
        if q:
            # z = wᵀx for the first of each stream
            z0, z1, z2, z3 = dot4(rows[start], rows[start + q], rows[start + 2 * q],
                                  rows[start + 3 * q], w, zero)
        for k in range(q):
            i0, i1, i2, i3 = start + k, start + q + k, start + 2 * q + k, start + 3 * q + k
            # z = wᵀx + b: the loss and dz = a − y
            loss, dz = four_losses(z0 + b, z1 + b, z2 + b, z3 + b, y, s, weighted, i0, i1, i2,
                                   i3, d[4 * (k % 2):], u)
            if (k + 1) % LOG_ROUNDS == 0 or k + 1 == q:  # Π (1 + e) ≤ 2^(4·LOG_ROUNDS)
                loss += math.log1p(u[0])
                u[0] = 0.0
            sums[c, 0] += loss
            sums[c, 1] += dz
            sums[c, 2] += (s[i0] + s[i1] + s[i2] + s[i3]) if weighted else 4.0
            if k + 1 == q:  # the chunk's last round: what is left of dw += x dz
                if in_blocks:
                    add_rest(g, rows, i0, i1, i2, i3, d, k)
                    flush_into(g, dw)
                else:
                    add_rest(dw, rows, i0, i1, i2, i3, d, k)
            elif k % 2 == 0:  # the next four's z = wᵀx; dw += x dz waits a round
                z0, z1, z2, z3 = dot4(rows[i0 + 1], rows[i1 + 1], rows[i2 + 1], rows[i3 + 1],
                                      w, zero)
            elif in_blocks:  # the next four's z, and dw += x dz for this round and the last
                z0, z1, z2, z3 = sweep(rows, i0, i1, i2, i3, w, g, d, zero)
                if (k + 1) % (BLOCK // 4) == 0:
                    flush_into(g, dw)
            else:
                z0, z1, z2, z3 = sweep(rows, i0, i1, i2, i3, w, dw, d, zero)
        for i in range(start + 4 * q, stop):  # the last few, one at a time
            x = rows[i]
            z = zero
            for j in range(n):
                z += w[j] * x[j]
            loss, dz = logistic_terms(z + b, y[i], s[i] if weighted else 1.0)
            for j in range(n):
                dw[j] += x[j] * dz
            sums[c, 0] += loss
            sums[c, 1] += dz
            sums[c, 2] += s[i] if weighted else 1.0


@numba.njit(inline="always")
def softmax_terms(z, Y, i, weight):
    """One example's loss, and z turned into its dz in place (z of length K, b added)."""
    K = z.shape[0]
    top = z[0]
    for k in range(1, K):
        top = max(top, z[k])
    total = yz = ys = 0.0
    for k in range(K):
        y = Y[k, i]
        yz += y * z[k]
        ys += y
        z[k] = math.exp(z[k] - top)  # e^{z − max z} ≤ 1: never overflows
        total += z[k]
    # L = logsumexp(z) − Σ_k y_k z_k  (= −Σ_k y_k log a_k)
    loss = ys * (top + math.log(total)) - yz
    for k in range(K):
        # dz = s (a − y),  a = softmax(z) = e^{z − max z} / Σ e^{z − max z}
        z[k] = weight * (z[k] / total - Y[k, i])
    return weight * loss


@numba.njit(fastmath=FAST)
def dots(x0, x1, x2, x3, u, v, zero):
    """Four examples' uᵀx and vᵀx (two columns of W): each x[j] and w[j] loaded once for
    eight products."""
    a0 = a1 = a2 = a3 = c0 = c1 = c2 = c3 = zero
    for j in range(u.shape[0]):
        p, q = u[j], v[j]
        a0 += p * x0[j]
        a1 += p * x1[j]
        a2 += p * x2[j]
        a3 += p * x3[j]
        c0 += q * x0[j]
        c1 += q * x1[j]
        c2 += q * x2[j]
        c3 += q * x3[j]
    return a0, a1, a2, a3, c0, c1, c2, c3


@numba.njit(fastmath=FAST)
def forward(rows, i, last, Wt, j0, j1, zero, Z, r):
    """Z[r:r+4] += Wᵀx over the features j0..j1-1, for the examples i..i+3 (repeating
    ``last`` past the block's end), two classes at a time. (Slices, so that the loops run
    from 0, which LLVM vectorises.)"""
    x0, x1 = rows[i, j0:j1], rows[min(i + 1, last), j0:j1]
    x2, x3 = rows[min(i + 2, last), j0:j1], rows[min(i + 3, last), j0:j1]
    K = Wt.shape[0]
    for k in range(0, K, 2):
        k2 = min(k + 1, K - 1)  # odd K: the last class paired with itself, added once
        a0, a1, a2, a3, c0, c1, c2, c3 = dots(x0, x1, x2, x3, Wt[k, j0:j1], Wt[k2, j0:j1],
                                              zero)
        Z[r, k] += a0
        Z[r + 1, k] += a1
        Z[r + 2, k] += a2
        Z[r + 3, k] += a3
        if k2 > k:
            Z[r, k2] += c0
            Z[r + 1, k2] += c1
            Z[r + 2, k2] += c2
            Z[r + 3, k2] += c3


@numba.njit(fastmath=FAST)
def backward(rows, i, last, dZ, r, dWt, j0, j1):
    """dWᵀ[:, j0:j1] += dZ xᵀ for the examples i..i+3 (their dz in dZ[r:r+4], zero past
    the block's end), one class at a time (one array written: LLVM vectorises the loop
    without checks of overlap between many arrays)."""
    x0, x1 = rows[i, j0:j1], rows[min(i + 1, last), j0:j1]
    x2, x3 = rows[min(i + 2, last), j0:j1], rows[min(i + 3, last), j0:j1]
    for k in range(dWt.shape[0]):
        g = dWt[k, j0:j1]
        d0, d1, d2, d3 = dZ[r, k], dZ[r + 1, k], dZ[r + 2, k], dZ[r + 3, k]
        for j in range(g.shape[0]):
            g[j] += d0 * x0[j] + d1 * x1[j] + d2 * x2[j] + d3 * x3[j]


@numba.njit(fastmath=FAST)
def flush(scratch, dWt):
    """dWᵀ += scratch (a block's sums, in float32), and scratch back to 0."""
    for k in range(dWt.shape[0]):
        g, h = dWt[k], scratch[k]
        for j in range(g.shape[0]):
            g[j] += h[j]
            h[j] = 0.0


@numba.njit(fastmath=FAST, cache=True, nogil=True)
def layer_chunks(rows, Y, s, weighted, Wt, b, zero, tile, in_blocks, dW_parts, sums, first,
                 last):
    """Chunks ``first`` to ``last`` (exclusive) of dense X, K classes: their partial sums
    in place (dW_parts[c] holds the chunk's dWᵀ, sums[c] its loss, Σ s and Σ dz).

    ``in_blocks`` (float32 X): each block's dZ Xᵀ is summed in X's dtype (twice the
    products per instruction) in ``scratch`` (K, n_x), then added to the float64 dWᵀ;
    else each product is added straight to dWᵀ."""
    m, n = rows.shape
    K = Wt.shape[0]
    size = (m + dW_parts.shape[0] - 1) // dW_parts.shape[0]
    Z = np.empty((BLOCK, K))
    dZ = np.zeros((BLOCK, K), dtype=rows.dtype)  # the block's dz, in X's dtype
    scratch = np.zeros((K, n) if in_blocks else (0, 0), dtype=rows.dtype)
    for c in range(first, last):
        for i in range(c * size, min(m, (c + 1) * size), BLOCK):
            block = min(BLOCK, m - i, (c + 1) * size - i)
            end = i + block - 1
            Z[:] = 0.0
            # Z = WᵀX (a tile of features at a time: its slice of W stays in cache)
            for j0 in range(0, n, tile):
                for r in range(0, block, 4):
                    forward(rows, i + r, end, Wt, j0, min(n, j0 + tile), zero, Z, r)
            for r in range(block):
                for k in range(K):
                    Z[r, k] += b[k]  # Z = WᵀX + b
                weight = s[i + r] if weighted else 1.0
                sums[c, 0] += softmax_terms(Z[r], Y, i + r, weight)  # Z[r] is now dz
                sums[c, 1] += weight
                for k in range(K):
                    sums[c, 2 + k] += Z[r, k]
                    dZ[r, k] = Z[r, k]
            dZ[block:] = 0.0  # the rows repeated past the block's end add nothing
            # dWᵀ += dZ Xᵀ, while the block's examples are still in cache
            for j0 in range(0, n, tile):
                j1 = min(n, j0 + tile)
                for r in range(0, block, 4):
                    if in_blocks:
                        backward(rows, i + r, end, dZ, r, scratch, j0, j1)
                    else:
                        backward(rows, i + r, end, dZ, r, dW_parts[c], j0, j1)
            if in_blocks:
                flush(scratch, dW_parts[c])


@numba.njit(fastmath=FAST)
def outside_count(indices, start, stop, n):
    """How many of the column indices start..stop-1 fall outside 0..n-1."""
    count = 0
    for p in range(start, stop):
        count += np.uint64(indices[p]) >= n  # a negative index becomes huge
    return count


@numba.njit(fastmath=FAST)
def sparse_dot(data, indices, start, stop, w):
    """wᵀx over one example's non-zeros start..stop-1."""
    z = 0.0
    for p in range(start, stop):
        z += data[p] * w[np.uint64(indices[p])]
    return z


@numba.njit(fastmath=FAST)
def sparse_add(data, indices, start, stop, dz, dw):
    """dw += x dz over one example's non-zeros start..stop-1."""
    for p in range(start, stop):
        dw[np.uint64(indices[p])] += data[p] * dz


@numba.njit(fastmath=FAST, cache=True, nogil=True)
def sparse_neuron_chunks(data, indices, indptr, bounds, Y, s, weighted, W, b, dW_parts,
                         sums, outside, first, last):
    """The notes' neuron on sparse X (CSR rows: data, indices, indptr; W of one column):
    chunks ``first`` to ``last`` (exclusive), their partial sums in place (dW_parts[c]
    holds the chunk's dw, sums[c] its loss, Σ s and Σ dz). Two examples at a time: the
    second's z is summed while the first's waits for its σ (17 % faster). Examples with a
    column index outside w are counted in ``outside[c]`` and skipped."""
    w, n = W[:, 0], np.uint64(W.shape[0])
    for c in range(first, last):
        dw = dW_parts[c][:, 0]
        end = bounds[c + 1]
        for i in range(bounds[c], end, 2):
            j = min(i + 1, end - 1)  # the second example (the first again at the end)
            a0, a1 = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
            b0, b1 = (np.uint64(indptr[j]), np.uint64(indptr[j + 1])) if j > i else (a1, a1)
            misses = outside_count(indices, a0, b1, n)
            if misses:  # the call fails: nothing of these examples is read or written
                outside[c] += misses
                continue
            # z = wᵀx + b
            z0 = b[0] + sparse_dot(data, indices, a0, a1, w)
            z1 = b[0] + sparse_dot(data, indices, b0, b1, w)
            s0, s1 = (s[i], s[j]) if weighted else (1.0, 1.0)
            loss0, d0 = logistic_terms(z0, Y[0, i], s0)
            loss1, d1 = logistic_terms(z1, Y[0, j], s1)
            # dw += x dz
            sparse_add(data, indices, a0, a1, d0, dw)
            sums[c, 0] += loss0
            sums[c, 1] += s0
            sums[c, 2] += d0
            if j > i:
                sparse_add(data, indices, b0, b1, d1, dw)
                sums[c, 0] += loss1
                sums[c, 1] += s1
                sums[c, 2] += d1


@numba.njit(fastmath=FAST, cache=True, nogil=True)
def sparse_layer_chunks(data, indices, indptr, bounds, Y, s, weighted, W, b, dW_parts,
                        sums, outside, first, last):
    """K classes on sparse X (CSR rows: data, indices, indptr): chunks ``first`` to
    ``last`` (exclusive), their partial sums in place (dW_parts[c] holds the chunk's dW,
    sums[c] its loss, Σ s and Σ dz). Examples with a column index outside W are counted
    in ``outside[c]`` and skipped."""
    K = W.shape[1]
    n = np.uint64(W.shape[0])
    z = np.empty(K)
    for c in range(first, last):
        dW = dW_parts[c]
        for i in range(bounds[c], bounds[c + 1]):
            start, stop = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
            misses = outside_count(indices, start, stop, n)
            if misses:  # the call fails: nothing of this example is read or written
                outside[c] += misses
                continue
            # z = Wᵀx + b over x's non-zeros
            z[:] = b
            for p in range(start, stop):
                x, w = data[p], W[np.uint64(indices[p])]
                for k in range(K):
                    z[k] += x * w[k]
            weight = s[i] if weighted else 1.0
            sums[c, 0] += softmax_terms(z, Y, i, weight)  # z is now dz
            sums[c, 1] += weight
            for k in range(K):
                sums[c, 2 + k] += z[k]
            # dW += x dzᵀ over x's non-zeros
            for p in range(start, stop):
                x, g = data[p], dW[np.uint64(indices[p])]
                for k in range(K):
                    g[k] += x * z[k]
