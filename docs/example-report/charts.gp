# Written by saebench report --html; rerun with: gnuplot charts.gp (in this directory)
cairo = strstrt(GPVAL_TERMINALS, "pngcairo") > 0

# ---- throughput.png
reset
if (cairo) {
    set terminal pngcairo size 1100,640 noenhanced font "sans,9"
} else {
    set terminal png size 1100,640 noenhanced
}
set output "throughput.png"
set datafile separator "\t"
set datafile missing "?"
set grid ytics
set style fill solid 1.0 border -1
set format y "%.3g"
set key outside top center horizontal
set bmargin 14
set xtics rotate by -30 left nomirror
set xrange [0.4:11.6]
set title "rows/s of the latest verdict of each key, coloured by its mark, against its roofline bound"
set ylabel "rows/s (log scale)"
set logscale y
set boxwidth 0.36 absolute
plot "throughput.dat" using 1:(NaN):xtic(2) notitle, \
     "throughput.dat" using ($1-0.19):(strcol(3) eq "pass" ? $4 : NaN) with boxes lc rgb "#2e7d32" title "measured rows/s: pass", \
     "throughput.dat" using ($1-0.19):(strcol(3) eq "noisy" ? $4 : NaN) with boxes lc rgb "#e08e0b" title "measured rows/s: noisy", \
     "throughput.dat" using ($1+0.19):7 with boxes lc rgb "#c8c8c8" title "roofline bound rows/s", \
     "throughput.dat" using ($1-0.19):5:(0):($6-$5) with vectors nohead lw 1.5 lc rgb "#000000" title "IQR of the reps (q1 to q3)", \
     "throughput.dat" using (($1-0.19)-0.0600):5:(0.1200):(0) with vectors nohead lw 1.5 lc rgb "#000000" notitle, \
     "throughput.dat" using (($1-0.19)-0.0600):6:(0.1200):(0) with vectors nohead lw 1.5 lc rgb "#000000" notitle

# ---- residency.png
reset
if (cairo) {
    set terminal pngcairo size 1100,640 noenhanced font "sans,9"
} else {
    set terminal png size 1100,640 noenhanced
}
set output "residency.png"
set datafile separator "\t"
set datafile missing "?"
set grid ytics
set style fill solid 1.0 border -1
set format y "%.3g"
set key outside top center horizontal
set bmargin 14
set xtics rotate by -30 left nomirror
set xrange [0.4:6.6]
set title "residency speedup: re-upload s/rep over resident s/rep (1 = no gain), coloured by the verdict's mark"
set ylabel "speedup (x)"
set yrange [0:*]
set boxwidth 0.6 absolute
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 lc rgb "#a03030"
plot "residency.dat" using 1:(NaN):xtic(2) notitle, \
     "residency.dat" using 1:(strcol(3) eq "pass" ? $4 : NaN) with boxes lc rgb "#2e7d32" title "speedup: pass"

# ---- phases.png
reset
if (cairo) {
    set terminal pngcairo size 1100,640 noenhanced font "sans,9"
} else {
    set terminal png size 1100,640 noenhanced
}
set output "phases.png"
set datafile separator "\t"
set datafile missing "?"
set grid ytics
set style fill solid 1.0 border -1
set format y "%.3g"
set key outside top center horizontal
set bmargin 14
set xtics rotate by -30 left nomirror
set xrange [0.4:11.6]
set title "median s/rep of each timed phase (timing.phases) of the latest verdict of each key; the symbol above a group is its verdict's mark"
set ylabel "s/rep (log scale)"
set logscale y
set boxwidth 0.2533 absolute
plot "phases.dat" index 0 using 1:(NaN):xtic(2) notitle, \
     "phases.dat" index 1 using 1:($2 == 0 ? $3 : NaN) with boxes lc rgb "#3b6ea5" title "resident", \
     "phases.dat" index 1 using 1:($2 == 1 ? $3 : NaN) with boxes lc rgb "#8fb8de" title "reupload", \
     "phases.dat" index 1 using 1:($2 == 2 ? $3 : NaN) with boxes lc rgb "#2a9d8f" title "frame_build", \
     "phases.dat" index 1 using 1:($2 == 3 ? $3 : NaN) with boxes lc rgb "#9a9a9a" title "shared", \
     "phases.dat" index 1 using ($1):4:(0):($5-$4) with vectors nohead lw 1.5 lc rgb "#000000" title "IQR of the reps (q1 to q3)", \
     "phases.dat" index 1 using (($1)-0.0533):4:(0.1067):(0) with vectors nohead lw 1.5 lc rgb "#000000" notitle, \
     "phases.dat" index 1 using (($1)-0.0533):5:(0.1067):(0) with vectors nohead lw 1.5 lc rgb "#000000" notitle, \
     "phases.dat" index 0 using 1:(strcol(3) eq "pass" ? $4 : NaN) with points ps 1.8 lc rgb "#2e7d32" pt 7 title "verdict: pass", \
     "phases.dat" index 0 using 1:(strcol(3) eq "noisy" ? $4 : NaN) with points ps 1.8 lc rgb "#e08e0b" pt 9 title "verdict: noisy"
set output
